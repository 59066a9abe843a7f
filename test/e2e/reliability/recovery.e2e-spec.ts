import { Injectable, type CanActivate, type INestApplication } from '@nestjs/common';
import session from 'express-session';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketContext, SocketIOModule, SocketService } from 'nest-socketio';
import { closeClients, connect, next } from '../../support/app.js';
import { http, startSessionApp } from '../../support/session-app.js';
import { SessionController, SessionGateway } from '../../support/session-fixtures.js';

/** Tokens the guard accepts; a test revokes one while its client is away. */
const validTokens = new Set<string>();

/** Lets in clients whose handshake token is valid now. */
@Injectable()
class TokenGuard implements CanActivate {
  constructor(private readonly ctx: SocketContext) {}
  canActivate(): boolean {
    return validTokens.has(String(this.ctx.socket.handshake.auth.token));
  }
}

let app: INestApplication | undefined;

afterEach(async () => {
  closeClients();
  validTokens.clear();
  await app?.close();
  app = undefined;
});

async function start() {
  const middleware = session({ secret: 'recovery', resave: false, saveUninitialized: false });
  const started = await startSessionApp(
    {
      imports: [
        SocketIOModule.forRoot({
          logger: false,
          session: middleware,
          connectionStateRecovery: { maxDisconnectionDuration: 10_000 },
          connectionGuards: [TokenGuard],
        }),
      ],
      providers: [SessionGateway, TokenGuard],
      controllers: [SessionController],
    },
    middleware,
  );
  app = started.app;
  return started.url;
}

/** Cuts the client's TCP connection, as a network failure does, and waits for the server to see it. */
async function drop(c: ClientSocket): Promise<void> {
  // A client can be recovered once it has received a broadcast (its offset in the stream).
  const tick = next(c, 'tick');
  app!.get(SocketService).emit('tick');
  await tick;
  c.io.reconnection(false);
  const gone = next<string>(c, 'disconnect');
  const server = app!.get(SocketService).server;
  const left = new Promise<void>((resolve) => {
    const socket = server.of('/').sockets.get(c.id!);
    socket!.once('disconnect', () => resolve());
  });
  (
    c.io.engine.transport as unknown as { ws: { _socket: { destroy(): void } } }
  ).ws._socket.destroy();
  expect(await gone).toBe('transport close');
  await left;
}

describe('connectionStateRecovery', () => {
  it('runs the connection guards again: a revoked client is refused, not recovered', async () => {
    const url = await start();
    validTokens.add('t1');
    const c = await connect(url, { auth: { token: 't1' } });
    expect(await c.emitWithAck('get')).toEqual({});
    await drop(c);
    validTokens.delete('t1');
    const refused = next<Error>(c, 'connect_error');
    c.connect();
    expect((await refused).message).toBe('Connection rejected by server');
    expect(c.connected).toBe(false);
  });

  it('keeps the managed session across recovery', async () => {
    const url = await start();
    validTokens.add('t2');
    const { cookie } = await http(url, '/session/login', { body: { user: 'ann' } });
    const c = await connect(url, { auth: { token: 't2' }, extraHeaders: { cookie: cookie! } });
    expect(await c.emitWithAck('set', { count: 1 })).toEqual({ user: 'ann', count: 1 });
    await drop(c);
    const back = next(c, 'connect');
    c.connect();
    await back;
    expect(c.recovered).toBe(true);
    expect(await c.emitWithAck('get')).toEqual({ user: 'ann', count: 1 });
  });
});

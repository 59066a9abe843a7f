// Defences that each hung on a single test: a throwing connection guard refuses whatever the
// error handler says; a class-level @UseGuards takes a gateway off direct dispatch; each socket
// has its own managed session, also when the session store is down.
import { Injectable, UseGuards, type CanActivate, type INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import session from 'express-session';
import { afterEach, describe, expect, it } from 'vitest';
import { OnSocketError, SocketIOModule, UseConnectionGuards } from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';
import { http, startSessionApp } from '../../support/session-app.js';
import { SessionController, SessionGateway } from '../../support/session-fixtures.js';

@Injectable()
class ThrowingGuard implements CanActivate {
  canActivate(): boolean {
    throw new Error('token service down');
  }
}

/** An error handler that forgives everything: a guard's error must still refuse. */
@UseConnectionGuards(ThrowingGuard)
@WebSocketGateway({ namespace: '/forgiving' })
class ForgivingGateway {
  connected = 0;
  handleConnection() {
    this.connected++;
  }

  @OnSocketError()
  onError(error: Error) {
    return error.message === 'token service down' ? 'forgiven' : undefined;
  }
}

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

/** Plain handlers (no pipes, no method guards): only the class-level guard keeps them closed. */
@UseGuards(DenyGuard)
@WebSocketGateway({ namespace: '/closed' })
class ClosedGateway {
  calls = 0;
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    this.calls++;
    return data;
  }
}

let app: INestApplication | undefined;

afterEach(async () => {
  closeClients();
  await app?.close();
  app = undefined;
});

describe('connection guards', () => {
  it('a guard that throws refuses, even when the error handler forgives', async () => {
    const started = await startApp({
      imports: [SocketIOModule.forRoot({ logger: false })],
      providers: [ForgivingGateway, ThrowingGuard],
    });
    app = started.app;
    const c = client(`${started.url}/forgiving`);
    const refusal = await next<Error>(c, 'connect_error');
    expect(refusal.message).toBe('Connection rejected by server');
    expect(c.connected).toBe(false);
    expect(app.get(ForgivingGateway).connected).toBe(0);
  });
});

describe('handler guards', () => {
  it('a class-level @UseGuards guards every handler of the gateway', async () => {
    const started = await startApp({
      imports: [SocketIOModule.forRoot({ logger: false })],
      providers: [ClosedGateway, DenyGuard],
    });
    app = started.app;
    const c = await connect(`${started.url}/closed`);
    expect(await c.emitWithAck('echo', 'x')).toEqual({
      error: { status: 403, message: 'Forbidden resource' },
    });
    expect(app.get(ClosedGateway).calls).toBe(0);
  });
});

/** A store whose reads fail, as when its database is down. */
class DownStore extends session.MemoryStore {
  override get(_sid: string, callback: (err: unknown) => void): void {
    callback(new Error('store down'));
  }
}

/** The session gateway and its login controller, on an app whose module uses `middleware`. */
async function startWithSession(middleware: Parameters<typeof startSessionApp>[1]) {
  const started = await startSessionApp(
    {
      imports: [SocketIOModule.forRoot({ logger: false, session: middleware })],
      providers: [SessionGateway],
      controllers: [SessionController],
    },
    middleware,
  );
  app = started.app;
  return started;
}

describe('managed sessions', () => {
  it('each socket has its own, even two of one browser', async () => {
    const middleware = session({ secret: 's', resave: false, saveUninitialized: false });
    const started = await startWithSession(middleware);
    const { cookie } = await http(started.url, '/session/login', { body: { user: 'ann' } });
    const a = await connect(started.url, { extraHeaders: { cookie: cookie! } });
    const b = await connect(started.url, { extraHeaders: { cookie: cookie! } });
    expect(await a.emitWithAck('set', { tab: 'a' })).toEqual({ user: 'ann', tab: 'a' });
    expect(await b.emitWithAck('get')).toEqual({ user: 'ann' });
    expect(await b.emitWithAck('set', { tab: 'b' })).toEqual({ user: 'ann', tab: 'b' });
    expect(await a.emitWithAck('get')).toEqual({ user: 'ann', tab: 'a' });
  });

  it('clients whose session could not be loaded do not share one', async () => {
    const middleware = session({
      secret: 's',
      store: new DownStore(),
      resave: false,
      saveUninitialized: false,
    });
    const started = await startWithSession(middleware);
    // A genuine cookie (saving works, reading fails): the middleware's read of the store fails.
    const cookie = (await http(started.url, '/session/login', { body: { user: 'ann' } })).cookie!;
    expect(cookie).toMatch(/^connect\.sid=s%3A/);
    const a = await connect(started.url, { extraHeaders: { cookie } });
    const b = await connect(started.url, { extraHeaders: { cookie } });
    const c = await connect(started.url);
    expect(await a.emitWithAck('set', { who: 'a' })).toEqual({ who: 'a' });
    expect(await b.emitWithAck('get')).toEqual({});
    expect(await c.emitWithAck('get')).toEqual({});
    expect(await b.emitWithAck('set', { who: 'b' })).toEqual({ who: 'b' });
    expect(await a.emitWithAck('get')).toEqual({ who: 'a' });
  });
});

import { Injectable, type CanActivate } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { INestApplication } from '@nestjs/common';
import session from 'express-session';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, UseConnectionGuards, type SocketIOModuleOptions } from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';
import { http, startSessionApp } from '../../support/session-app.js';
import { SessionController, SessionGateway } from '../../support/session-fixtures.js';
import { pollingHandshake, ReliabilityGateway } from '../../support/reliability-fixtures.js';

/** A guard that fails the way a broken dependency does: with internals in its message. */
@Injectable()
class LeakyGuard implements CanActivate {
  canActivate(): boolean {
    throw new Error('ECONNREFUSED redis://admin:s3cret@10.0.0.5:6379');
  }
}

@UseConnectionGuards(LeakyGuard)
@WebSocketGateway({ namespace: '/guarded' })
class GuardedGateway {
  @SubscribeMessage('x')
  x() {
    return 'x';
  }
}

@WebSocketGateway({ namespace: '/on-connect' })
class FailingConnectGateway {
  async handleConnection() {
    await Promise.resolve();
    throw new TypeError("Cannot read properties of undefined (reading 'tenantSecret')");
  }
}

let app: INestApplication | undefined;

/** One character of a cookie value changed. */
const flip = (s: string, at: number) =>
  s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

async function start(options: SocketIOModuleOptions = {}) {
  const started = await startApp({
    imports: [SocketIOModule.forRoot({ logger: false, ...options })],
    providers: [ReliabilityGateway, GuardedGateway, FailingConnectGateway, LeakyGuard],
  });
  app = started.app;
  return started.url;
}

afterEach(async () => {
  closeClients();
  await app?.close();
  app = undefined;
});

/** The HTTP status a websocket upgrade gets (101 when it is accepted, 400 when refused). */
function upgradeStatus(url: string, origin?: string): Promise<number> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, {
    headers: origin ? { origin } : {},
  });
  return new Promise((resolve) => {
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => resolve(0));
  });
}

describe('Origin', () => {
  it('refuses another origin on polling and on the websocket upgrade by default (same origin only)', async () => {
    const url = await start();
    const evil = 'http://evil.example';
    expect((await pollingHandshake(url, { origin: evil })).status).toBe(403);
    // engine.io answers every refused upgrade with 400 (and polling with 403).
    expect(await upgradeStatus(url, evil)).toBe(400);
    // The page's own origin, and clients that send no Origin (not a browser), are let in.
    expect((await pollingHandshake(url, { origin: url })).status).toBe(200);
    expect(await upgradeStatus(url, url)).toBe(101);
    expect(await upgradeStatus(url)).toBe(101);
    const refused = client(url, { extraHeaders: { origin: evil }, transports: ['polling'] });
    expect((await next<Error>(refused, 'connect_error')).message).toBe('xhr poll error');
  });

  it('lets in exactly the origins listed in cors', async () => {
    const url = await start({ cors: ['http://good.example'] });
    expect((await pollingHandshake(url, { origin: 'http://good.example' })).status).toBe(200);
    expect(await upgradeStatus(url, 'http://good.example')).toBe(101);
    for (const origin of ['http://evil.example', 'http://good.example.evil.example', url]) {
      expect((await pollingHandshake(url, { origin })).status, origin).toBe(403);
      expect(await upgradeStatus(url, origin), origin).toBe(400);
    }
  });
});

describe('namespaces', () => {
  it('refuses a namespace that has no gateway, and keeps the client on the others', async () => {
    const url = await start();
    const nowhere = client(`${url}/nowhere`);
    expect((await next<Error>(nowhere, 'connect_error')).message).toBe('Invalid namespace');
    const c = await connect(url);
    expect(await c.emitWithAck('echo', 1)).toBe(1);
  });
});

describe('no internals reach a client', () => {
  it('answers failing handlers, guards and handleConnection without messages or stacks', async () => {
    const url = await start();
    // Everything the server writes to this connection, frame by frame.
    const frames: string[] = [];
    const c = await connect(url);
    c.io.engine.on('packet', (p: { data?: unknown }) => frames.push(String(p.data ?? '')));
    const internal = { error: { status: 500, message: 'Internal server error' } };
    expect(await c.emitWithAck('boom')).toEqual(internal);
    expect(await c.emitWithAck('boom-async')).toEqual(internal);
    const exception = next(c, 'exception');
    c.emit('boom');
    expect(await exception).toEqual(internal);

    const guarded = client(`${url}/guarded`);
    const refusal = await next<Error & { data?: unknown }>(guarded, 'connect_error');
    expect(refusal.message).toBe('Internal server error');
    expect(refusal.data).toBeUndefined();
    const onConnect = client(`${url}/on-connect`);
    expect((await next<Error>(onConnect, 'connect_error')).message).toBe('Internal server error');

    const leaks = /hunter2|s3cret|tenantSecret|Cannot read|\.ts\b|\bat [\w.<>]+ \(|stack/;
    expect(frames.length).toBeGreaterThan(2);
    for (const frame of frames) expect(frame).not.toMatch(leaks);
  });
});

describe('sessions', () => {
  it('gives a tampered session cookie no session, over both transports', async () => {
    const middleware = session({ secret: 'reliability', resave: false, saveUninitialized: false });
    const started = await startSessionApp(
      {
        imports: [SocketIOModule.forRoot({ logger: false, session: middleware })],
        providers: [SessionGateway],
        controllers: [SessionController],
      },
      middleware,
    );
    app = started.app;
    const { url } = started;
    const { cookie } = await http(url, '/session/login', { body: { user: 'ann' } });
    expect(cookie).toMatch(/^connect\.sid=s%3A/);
    const genuine = await connect(url, { extraHeaders: { cookie: cookie! } });
    expect(await genuine.emitWithAck('get')).toEqual({ user: 'ann' });
    // Flip the last character of the signature, then of the session id.
    const value = decodeURIComponent(cookie!.slice('connect.sid='.length));
    const dot = value.lastIndexOf('.');
    const tampered = [flip(value, value.length - 1), flip(value, dot - 1)].map(
      (v) => `connect.sid=${encodeURIComponent(v)}`,
    );
    for (const bad of tampered) {
      for (const transports of [['websocket'], ['polling']] as const) {
        const c = await connect(url, {
          extraHeaders: { cookie: bad },
          transports: [...transports],
        });
        expect(await c.emitWithAck('get'), `${bad} over ${transports[0]}`).toEqual({});
      }
    }
  });
});

describe('a gateway allowRequest', () => {
  it('runs after the origin check, never instead of it', async () => {
    const asked: string[] = [];
    @WebSocketGateway({
      allowRequest: (req: { headers: { origin?: string } }, cb: (e: null, ok: boolean) => void) => {
        asked.push(req.headers.origin ?? 'none');
        cb(null, true);
      },
    })
    // oxlint-disable-next-line typescript/no-extraneous-class -- a gateway needs no members here
    class PermissiveGateway {}
    const started = await startApp({
      imports: [SocketIOModule.forRoot({ logger: false })],
      providers: [PermissiveGateway],
    });
    app = started.app;
    const { url } = started;
    expect((await pollingHandshake(url, { origin: 'http://evil.example' })).status).toBe(403);
    expect(await upgradeStatus(url, 'http://evil.example')).toBe(400);
    expect((await pollingHandshake(url, { origin: url })).status).toBe(200);
    expect(asked).toEqual([url]);
  });
});

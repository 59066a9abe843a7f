import type { INestApplication } from '@nestjs/common';
import session from 'express-session';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSocketIOOptionError, SocketIOModule } from 'nest-socketio';
import { client, closeClients, connect, next } from '../../support/app.js';
import { http, startSessionApp } from '../../support/session-app.js';
import {
  LoggedInGuard,
  PrivateGateway,
  SessionController,
  SessionGateway,
} from '../../support/session-fixtures.js';

function sessionMiddleware() {
  return session({ secret: 'test secret', resave: false, saveUninitialized: false });
}

async function start(manageSession: boolean) {
  const middleware = sessionMiddleware();
  return startSessionApp(
    {
      imports: [SocketIOModule.forRoot({ session: middleware, manageSession })],
      providers: [SessionGateway, PrivateGateway, LoggedInGuard],
      controllers: [SessionController],
    },
    middleware,
  );
}

async function login(url: string, user: string): Promise<string> {
  const { cookie } = await http(url, '/session/login', { body: { user } });
  expect(cookie).toMatch(/^connect\.sid=s%3A/);
  return cookie!;
}

describe('sessions with the default store, managed (manageSession: true, the default)', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => ({ app, url } = await start(true)));
  afterAll(() => app.close());
  afterEach(() => closeClients());

  it('finds the HTTP session of the cookie the socket connects with', async () => {
    const cookie = await login(url, 'ann');
    const c = await connect(url, { extraHeaders: { cookie } });
    expect(await c.emitWithAck('get')).toEqual({ user: 'ann' });
  });

  it('keeps a change for the life of the connection, invisible over HTTP', async () => {
    const cookie = await login(url, 'ann');
    const c = await connect(url, { extraHeaders: { cookie } });
    expect(await c.emitWithAck('set', { color: 'blue' })).toEqual({ user: 'ann', color: 'blue' });
    expect(await c.emitWithAck('set-later', { size: 2 })).toEqual({
      user: 'ann',
      color: 'blue',
      size: 2,
    });
    expect(await c.emitWithAck('get')).toEqual({ user: 'ann', color: 'blue', size: 2 });
    expect((await http(url, '/session', { cookie })).json).toEqual({ user: 'ann' });
  });

  it('takes its copy at connect: later HTTP changes stay out, a new connection sees them', async () => {
    const cookie = await login(url, 'ann');
    const first = await connect(url, { extraHeaders: { cookie } });
    await first.emitWithAck('set', { color: 'blue' });
    await http(url, '/session/set', { cookie, body: { theme: 'dark' } });
    expect(await first.emitWithAck('get')).toEqual({ user: 'ann', color: 'blue' });
    const second = await connect(url, { extraHeaders: { cookie } });
    expect(await second.emitWithAck('get')).toEqual({ user: 'ann', theme: 'dark' });
  });

  it('gives a client without a cookie an empty session of its own', async () => {
    const a = await connect(url);
    const b = await connect(url);
    expect(await a.emitWithAck('get')).toEqual({});
    await a.emitWithAck('set', { n: 1 });
    expect(await a.emitWithAck('get')).toEqual({ n: 1 });
    expect(await b.emitWithAck('get')).toEqual({});
  });

  it('loads the session before connection guards run', async () => {
    const cookie = await login(url, 'bob');
    const ok = await connect(`${url}/private`, { extraHeaders: { cookie } });
    expect(await ok.emitWithAck('who')).toBe('bob');
    const anonymous = client(`${url}/private`);
    const err = await next<Error>(anonymous, 'connect_error');
    expect(err.message).toBe('Connection rejected by server');
  });

  it('gives a forged, an unsigned or an expired cookie an empty session, never an error', async () => {
    const real = await login(url, 'ann');
    const sid = decodeURIComponent(real.slice('connect.sid='.length)).slice(2).split('.')[0];
    const { cookie: expired } = await http(url, '/session/login-expired', {
      body: { user: 'eve' },
    });
    expect(expired).toBeDefined();
    // The expired session is gone for HTTP as well: the server forgot it, not only the socket.
    expect((await http(url, '/session', { cookie: expired })).json).toEqual({});
    const cookies = [
      `connect.sid=${encodeURIComponent(`s:${sid}.forgedsignatureAAAAAAAAAAAAAAAAAAAAAAAAAAAA`)}`,
      `connect.sid=s%3Anot-a-session.x`,
      `connect.sid=${sid}`,
      `connect.sid=%E0%A4%A`,
      expired!,
    ];
    for (const cookie of cookies) {
      const c = await connect(url, { extraHeaders: { cookie } });
      expect(await c.emitWithAck('get'), cookie).toEqual({});
      const refused = client(`${url}/private`, { extraHeaders: { cookie } });
      expect((await next<Error>(refused, 'connect_error')).message).toBe(
        'Connection rejected by server',
      );
    }
    const good = await connect(url, { extraHeaders: { cookie: real } });
    expect(await good.emitWithAck('get')).toEqual({ user: 'ann' });
  });
});

describe('sessions with the default store, unmanaged (manageSession: false)', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => ({ app, url } = await start(false)));
  afterAll(() => app.close());
  afterEach(() => closeClients());

  it('shares the HTTP session: a socket change is visible over HTTP, and the other way round', async () => {
    const cookie = await login(url, 'ann');
    const c = await connect(url, { extraHeaders: { cookie } });
    expect(await c.emitWithAck('get')).toEqual({ user: 'ann' });
    expect(await c.emitWithAck('set', { color: 'blue' })).toEqual({ user: 'ann', color: 'blue' });
    // The ack comes after the save: HTTP sees the change at once.
    expect((await http(url, '/session', { cookie })).json).toEqual({ user: 'ann', color: 'blue' });
    await http(url, '/session/set', { cookie, body: { theme: 'dark' } });
    expect(await c.emitWithAck('get')).toEqual({ user: 'ann', color: 'blue', theme: 'dark' });
    expect(await c.emitWithAck('set-later', { size: 2 })).toEqual({
      user: 'ann',
      color: 'blue',
      theme: 'dark',
      size: 2,
    });
    expect((await http(url, '/session', { cookie })).json).toEqual({
      user: 'ann',
      color: 'blue',
      theme: 'dark',
      size: 2,
    });
  });

  it('a catch-all handler reads and saves the session too', async () => {
    const cookie = await login(url, 'ann');
    const c = await connect(url, { extraHeaders: { cookie } });
    expect(await c.emitWithAck('anything')).toEqual({ user: 'ann', last: 'anything' });
    expect((await http(url, '/session', { cookie })).json).toEqual({
      user: 'ann',
      last: 'anything',
    });
  });

  it('two connections of one browser share the session', async () => {
    const cookie = await login(url, 'ann');
    const a = await connect(url, { extraHeaders: { cookie } });
    const b = await connect(url, { extraHeaders: { cookie } });
    await a.emitWithAck('set', { from: 'a' });
    expect(await b.emitWithAck('get')).toEqual({ user: 'ann', from: 'a' });
  });

  it('keeps the session of a client without a cookie for its connection only', async () => {
    const a = await connect(url);
    const b = await connect(url);
    expect(await a.emitWithAck('set', { n: 1 })).toEqual({ n: 1 });
    expect(await a.emitWithAck('get')).toEqual({ n: 1 });
    expect(await b.emitWithAck('get')).toEqual({});
  });

  it('gives a forged cookie an empty session', async () => {
    const c = await connect(url, { extraHeaders: { cookie: 'connect.sid=s%3Aforged.sig' } });
    expect(await c.emitWithAck('get')).toEqual({});
  });
});

describe('manageSession: false without a session option', () => {
  it('fails at start-up with an error that says what to add', async () => {
    const failed = startSessionApp(
      {
        imports: [SocketIOModule.forRoot({ manageSession: false })],
        providers: [SessionGateway],
      },
      (_req, _res, nextFn) => nextFn(),
    );
    await expect(failed).rejects.toThrow(InvalidSocketIOOptionError);
    await expect(failed).rejects.toThrow(/manageSession.*no "session" option/);
  });
});

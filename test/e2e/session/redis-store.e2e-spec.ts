import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SocketIOModule } from 'nest-socketio';
import { closeClients, connect } from '../../support/app.js';
import { http, startSessionApp } from '../../support/session-app.js';
import { SessionController, SessionGateway } from '../../support/session-fixtures.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** One application instance with its own Redis connection, as a separate process would have. */
async function instance(prefix: string, manageSession: boolean) {
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  const store = new RedisStore({ client: redis, prefix });
  const middleware = session({
    secret: 'shared secret',
    resave: false,
    saveUninitialized: false,
    store,
  });
  const { app, url } = await startSessionApp(
    {
      imports: [SocketIOModule.forRoot({ session: middleware, manageSession })],
      providers: [SessionGateway],
      controllers: [SessionController],
    },
    middleware,
  );
  return { app, url, redis, store };
}

describe.each([
  ['unmanaged', false],
  ['managed', true],
] as const)('sessions in Redis (connect-redis) across two app instances, %s', (_, managed) => {
  const prefix = `nest-socketio-test:${randomUUID()}:`;
  let a: Awaited<ReturnType<typeof instance>>;
  let b: Awaited<ReturnType<typeof instance>>;
  beforeAll(async () => {
    a = await instance(prefix, managed);
    b = await instance(prefix, managed);
  });
  afterAll(async () => {
    await a.store.clear();
    for (const i of [a, b] as { app: INestApplication; redis: { quit(): Promise<unknown> } }[]) {
      await i.app.close();
      await i.redis.quit();
    }
  });
  afterEach(() => closeClients());

  it('a socket on one instance finds the session of a login on the other', async () => {
    const { cookie } = await http(b.url, '/session/login', { body: { user: 'ann' } });
    expect(cookie).toBeDefined();
    const c = await connect(a.url, { extraHeaders: { cookie: cookie! } });
    expect(await c.emitWithAck('get')).toEqual({ user: 'ann' });
  });

  if (!managed) {
    it('a value written through a socket on one instance is read over HTTP on the other, and back', async () => {
      const { cookie } = await http(a.url, '/session/login', { body: { user: 'ann' } });
      const c = await connect(a.url, { extraHeaders: { cookie: cookie! } });
      expect(await c.emitWithAck('set', { color: 'blue' })).toEqual({ user: 'ann', color: 'blue' });
      expect((await http(b.url, '/session', { cookie })).json).toEqual({
        user: 'ann',
        color: 'blue',
      });
      await http(b.url, '/session/set', { cookie, body: { theme: 'dark' } });
      expect(await c.emitWithAck('get')).toEqual({ user: 'ann', color: 'blue', theme: 'dark' });
    });
  } else {
    it('a change through a socket stays in that connection, not in Redis', async () => {
      const { cookie } = await http(a.url, '/session/login', { body: { user: 'ann' } });
      const c = await connect(a.url, { extraHeaders: { cookie: cookie! } });
      expect(await c.emitWithAck('set', { color: 'blue' })).toEqual({ user: 'ann', color: 'blue' });
      expect(await c.emitWithAck('get')).toEqual({ user: 'ann', color: 'blue' });
      expect((await http(b.url, '/session', { cookie })).json).toEqual({ user: 'ann' });
    });
  }

  it('a forged cookie gives an empty session', async () => {
    const c = await connect(a.url, {
      extraHeaders: { cookie: 'connect.sid=s%3Aforged.c2lnbmF0dXJl' },
    });
    expect(await c.emitWithAck('get')).toEqual({});
  });
});

describe('a session store that fails during the handshake', () => {
  afterEach(() => closeClients());

  it('gives an empty session and logs a warning; the client still connects', async () => {
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const store = new RedisStore({ client: redis, prefix: `nest-socketio-test:${randomUUID()}:` });
    // The session this test leaves in Redis (its client is gone) expires within a minute.
    const middleware = session({
      secret: 's',
      resave: false,
      saveUninitialized: false,
      store,
      cookie: { maxAge: 60_000 },
    });
    const warnings: string[] = [];
    const logger = { log() {}, error() {}, warn: (m: unknown) => warnings.push(String(m)) };
    const { app, url } = await startSessionApp(
      {
        imports: [SocketIOModule.forRoot({ session: middleware, logger })],
        providers: [SessionGateway],
        controllers: [SessionController],
      },
      middleware,
    );
    try {
      const { cookie } = await http(url, '/session/login', { body: { user: 'ann' } });
      await redis.quit();
      const c = await connect(url, { extraHeaders: { cookie: cookie! } });
      expect(await c.emitWithAck('get')).toEqual({});
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^The session of client \S+ could not be loaded: /);
    } finally {
      await app.close();
    }
  });
});

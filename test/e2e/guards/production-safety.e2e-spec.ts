import { randomUUID } from 'node:crypto';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SocketIOModule,
  UnsafeConfigurationError,
  type SocketIOModuleOptions,
} from 'nest-socketio';
import { closeClients, connect, startApp } from '../../support/app.js';

@WebSocketGateway()
class PingGateway {
  @SubscribeMessage('ping')
  ping() {
    return 'pong';
  }
}

@WebSocketGateway({ namespace: '/open', cors: { origin: '*' } })
class OpenGateway {
  @SubscribeMessage('ping')
  ping() {
    return 'open pong';
  }
}

const memorySession = () =>
  session({ secret: 'test secret', resave: false, saveUninitialized: false });

/** Starts an app with these options and environment variables; restores the environment after. */
async function start(
  options: SocketIOModuleOptions,
  env: Record<string, string> = { NODE_ENV: 'production' },
  providers: unknown[] = [PingGateway],
): Promise<{ app?: INestApplication; url?: string; error?: unknown }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot(options)],
      providers: providers as never[],
    });
    apps.push(app);
    return { app, url };
  } catch (error) {
    return { error };
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

const apps: INestApplication[] = [];

async function refused(
  options: SocketIOModuleOptions,
  env?: Record<string, string>,
  providers?: unknown[],
): Promise<UnsafeConfigurationError> {
  const { error } = await start(options, env, providers);
  expect(error).toBeInstanceOf(UnsafeConfigurationError);
  return error as UnsafeConfigurationError;
}

/** An app that started and serves a real client. */
async function serves(result: { url?: string; error?: unknown }): Promise<void> {
  expect(result.error).toBeUndefined();
  const c = await connect(result.url!);
  expect(await c.emitWithAck('ping')).toBe('pong');
}

function collectingLogger(): LoggerService & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    log() {},
    error() {},
    debug() {},
    verbose() {},
    warn: (m) => warnings.push(String(m)),
  };
}

describe('the production safety check', () => {
  let redis: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = createClient({ url: 'redis://127.0.0.1:6379' });
    await redis.connect();
  });
  afterAll(() => redis.quit());
  afterEach(async () => {
    closeClients();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it.each([
    ['*', '*'],
    ['true', true],
    ['{ origin: true } (reflects any origin)', { origin: true }],
    ["{ origin: '*' }", { origin: '*' }],
    ['a RegExp matching everything', /.*/],
    [
      'a function allowing every origin',
      { origin: (_o: unknown, cb: (e: null, ok: boolean) => void) => cb(null, true) },
    ],
  ] as [string, SocketIOModuleOptions['cors']][])('refuses cors %s', async (_, cors) => {
    const error = await refused({ cors });
    expect(error.settings).toHaveLength(1);
    expect(error.settings[0]!.setting).toBe('cors');
    expect(error.message).toContain('NODE_ENV=production');
    expect(error.message).toContain('1. cors: lets every website open a socket');
    expect(error.message).toContain(
      "Fix: list the origins that may connect, e.g. cors: ['https://app.example.com']",
    );
    expect(error.message).toContain('allowUnsafe: true');
  });

  it('says why cors open to every origin is worse with credentials', async () => {
    const error = await refused({ cors: { origin: true, credentials: true } });
    expect(error.settings[0]!.problem).toMatch(
      /with credentials.*cookies.*cross-site WebSocket hijacking/,
    );
    const withSession = await refused({ cors: '*', session: memorySession(), allowUnsafe: false });
    expect(withSession.settings.find((s) => s.setting === 'cors')!.problem).toContain(
      'with credentials',
    );
  });

  it('refuses a gateway of its own opening cors to every origin, naming it', async () => {
    const error = await refused({}, undefined, [PingGateway, OpenGateway]);
    expect(error.settings.map((s) => s.setting)).toEqual([
      '@WebSocketGateway({ cors }) of OpenGateway',
    ]);
  });

  it('accepts a list of origins and the same-origin default', async () => {
    await serves(await start({ cors: ['https://app.example.com', /\.example\.org$/] }));
    await serves(await start({}));
  });

  it("refuses express-session's MemoryStore, accepts a Redis store", async () => {
    const error = await refused({ session: memorySession() });
    expect(error.settings.map((s) => s.setting)).toEqual(['session']);
    expect(error.message).toContain("express-session's default MemoryStore");
    expect(error.message).toContain('Fix: give express-session a real store');
    const store = new RedisStore({ client: redis, prefix: `safety-${randomUUID()}:` });
    const redisSession = session({ secret: 's', resave: false, saveUninitialized: false, store });
    await serves(await start({ session: redisSession }));
  });

  it.each([
    ['a second pm2 instance (NODE_APP_INSTANCE=1)', { NODE_APP_INSTANCE: '1' }],
    ['one of several pm2 instances (instances=4)', { NODE_APP_INSTANCE: '0', instances: '4' }],
  ])('refuses %s without a messageQueue, accepts it with one', async (_, env) => {
    const error = await refused({}, { NODE_ENV: 'production', ...env });
    expect(error.settings.map((s) => s.setting)).toEqual(['messageQueue']);
    expect(error.message).toContain('would silently reach only the clients of this process');
    expect(error.message).toContain("Fix: set messageQueue: 'redis://…'");
    await serves(
      await start(
        { messageQueue: 'redis://127.0.0.1:6379', channel: `safety-${randomUUID()}` },
        { NODE_ENV: 'production', ...env },
      ),
    );
  });

  it('lists every unsafe setting at once, numbered', async () => {
    const error = await refused(
      { cors: '*', session: memorySession() },
      { NODE_ENV: 'production', NODE_APP_INSTANCE: '2' },
    );
    expect(error.settings.map((s) => s.setting)).toEqual(['cors', 'session', 'messageQueue']);
    expect(error.message).toMatch(
      /3 unsafe setting\(s\):\n1\. cors: .*\n2\. session: .*\n3\. messageQueue: /,
    );
  });

  it('with allowUnsafe: true starts and logs each unsafe setting as a warning', async () => {
    const logger = collectingLogger();
    await serves(
      await start(
        { cors: '*', session: memorySession(), allowUnsafe: true, logger },
        { NODE_ENV: 'production', NODE_APP_INSTANCE: '2' },
      ),
    );
    expect(logger.warnings).toHaveLength(3);
    expect(logger.warnings[0]).toMatch(/^Unsafe in production \(allowed by allowUnsafe\): cors: /);
    expect(logger.warnings[1]).toContain('session: ');
    expect(logger.warnings[2]).toContain('messageQueue: ');
  });

  it('checks nothing outside production', async () => {
    const logger = collectingLogger();
    await serves(
      await start(
        { cors: '*', session: memorySession(), logger },
        { NODE_ENV: 'development', NODE_APP_INSTANCE: '2' },
      ),
    );
    expect(logger.warnings).toEqual([]);
  });
});

import { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import { InvalidSocketIOOptionError } from 'nest-socketio';
import { validateSocketIOOptions } from '../../../lib/socket-io.options.js';
import { wsEngineProblem } from '../../../lib/outbound/ws-engine.js';

class AllowAll {
  canActivate() {
    return true;
  }
}

/** A hash in bcrypt's format (cost 4); the option takes hashes, never passwords. */
const BCRYPT = '$2b$04$C6UzMDM.H6dfI/f/IKcEeO5gRwQ4VJjN7Tk0fzL7kV2j1RAT8Tbsu';

describe('validateSocketIOOptions', () => {
  it('accepts no options and every option with a right value', () => {
    expect(validateSocketIOOptions(undefined)).toEqual({});
    expect(validateSocketIOOptions(null)).toEqual({});
    const options = {
      path: '/rt',
      cors: ['http://a.example', /\.b\.example$/],
      transports: ['websocket', 'polling'],
      pingInterval: 1000,
      pingTimeout: 500,
      maxHttpBufferSize: 1e5,
      cookie: { name: 'io', httpOnly: true },
      parser: 'msgpack',
      connectionStateRecovery: { maxDisconnectionDuration: 1000 },
      serverOptions: { connectTimeout: 1000 },
      alwaysConnect: true,
      manageSession: false,
      session: () => undefined,
      connectionGuards: [AllowAll, { canActivate: () => true }],
      messageQueue: 'redis://127.0.0.1:6379',
      channel: 'chan',
      emitterOnly: false,
      defaultErrorHandler: () => undefined,
      allowUnsafe: false,
      logger: false,
    };
    expect(validateSocketIOOptions(options)).toBe(options);
  });

  it.each([
    ['cors', true],
    ['cors', '*'],
    ['cors', 'http://a.example'],
    ['cors', { origin: (_o: string, cb: (e: null, ok: boolean) => void) => cb(null, true) }],
    ['cookie', true],
    ['connectionStateRecovery', true],
    ['parser', 'default'],
    ['wsEngine', 'ws'],
    ['wsEngine', WebSocketServer],
    ['messageQueue', { type: 'postgres', url: 'postgres://localhost/test' }],
    ['logger', { log() {}, error() {}, warn() {} }],
    ['adminUi', { auth: false }],
    ['broadcastSlicing', false],
    ['broadcastSlicing', { threshold: 5000 }],
    ['broadcastSlicing', { threshold: 200, sliceSize: 50, sliceMs: 2 }],
    ['adminUi', { auth: { username: 'ops', password: BCRYPT }, origin: [/\.ops\.example$/] }],
  ])('accepts %s: %o', (key, value) => {
    expect(() => validateSocketIOOptions({ [key]: value })).not.toThrow();
  });

  it.each([
    ['path', 'socket.io', "must be a string starting with '/'"],
    ['cors', 42, "must be '*', true, an origin"],
    ['cors', [42], 'must list strings or RegExps'],
    ['transports', [], 'must be a non-empty list'],
    ['transports', ['carrier-pigeon'], "'polling', 'websocket', 'webtransport'"],
    ['pingInterval', '25s', 'must be a positive number'],
    ['pingTimeout', -1, 'must be a positive number'],
    ['maxHttpBufferSize', Number.NaN, 'must be a positive number'],
    ['maxBufferedBytes', 0, 'must be a positive number'],
    ['shutdownGrace', -1, 'must be a number of milliseconds, 0 or more'],
    ['broadcastSlicing', true, 'must be false or { threshold?, sliceSize?, sliceMs? }'],
    ['broadcastSlicing', { threshold: -5 }, 'threshold must be a positive integer'],
    ['broadcastSlicing', { sliceSize: '100' }, 'sliceSize must be a positive integer'],
    ['broadcastSlicing', { slice: 100 }, 'has an unknown key "slice"'],
    ['cookie', 'io', 'must be a boolean or cookie options'],
    ['parser', 'json', "must be 'default' or 'msgpack'"],
    ['wsEngine', 'uws', "must be 'ws', 'eiows' or a ws-compatible server class"],
    [
      'wsEngine',
      { Server: WebSocketServer },
      "must be 'ws', 'eiows' or a ws-compatible server class",
    ],
    ['connectionStateRecovery', 'yes', 'must be a boolean or an object'],
    [
      'connectionStateRecovery',
      { skipMiddlewares: true },
      'skipMiddlewares: true is not supported',
    ],
    ['serverOptions', [], 'must be an object'],
    ['alwaysConnect', 'true', 'must be a boolean'],
    ['session', {}, 'must be a function'],
    ['connectionGuards', ['Guard'], 'must be a list of guard classes or instances'],
    [
      'messageQueue',
      'kafka://x',
      'must be a redis://, rediss://, postgres://, postgresql://, amqp://, amqps:// or nats:// URL',
    ],
    ['messageQueue', { type: 'kafka', url: 'x' }, "type must be 'redis'"],
    ['channel', '', 'must be a non-empty string'],
    ['defaultErrorHandler', 'handler', 'must be a function'],
    ['logger', 'debug', 'must be a boolean or a LoggerService'],
    ['adminUi', true, 'must be an object'],
    ['adminUi', {}, 'auth must be { username, password }'],
    ['adminUi', { auth: { username: 'ops', password: 'hunter2' } }, 'must be a bcrypt hash'],
    [
      'adminUi',
      { auth: false, namespace: 'admin' },
      "namespace must be a string starting with '/'",
    ],
    ['adminUi', { auth: false, origin: 42 }, 'origin must be an origin'],
    ['adminUi', { auth: false, mode: 'debug' }, "mode must be 'development' or 'production'"],
  ])('rejects %s: %o, naming it', (key, value, detail) => {
    let error: unknown;
    try {
      validateSocketIOOptions({ [key]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidSocketIOOptionError);
    const e = error as InvalidSocketIOOptionError;
    expect(e.option).toBe(key);
    expect(e.name).toBe('InvalidSocketIOOptionError');
    expect(e.message).toContain(`SocketIOModule option "${key}" `);
    expect(e.message).toContain(detail);
  });

  it('rejects an unknown option and lists the known ones', () => {
    expect(() => validateSocketIOOptions({ pathh: '/x' })).toThrow(
      /option "pathh" is unknown\. Known options: path, cors, /,
    );
  });

  it('rejects options that are not an object', () => {
    expect(() => validateSocketIOOptions('fast')).toThrow('must be an object');
    expect(() => validateSocketIOOptions([])).toThrow('must be an object');
  });

  it('treats an undefined value as unset', () => {
    expect(validateSocketIOOptions({ path: undefined })).toEqual({ path: undefined });
  });

  it('emitterOnly needs a message queue', () => {
    expect(() => validateSocketIOOptions({ emitterOnly: true })).toThrow(
      'SocketIOModule option "emitterOnly" needs a messageQueue',
    );
    expect(() =>
      validateSocketIOOptions({ emitterOnly: true, messageQueue: 'redis://127.0.0.1' }),
    ).not.toThrow();
  });

  it("rateLimit store: 'messageQueue' needs a Redis message queue", () => {
    const rateLimit = { points: 5, duration: 1000, store: 'messageQueue' as const };
    for (const messageQueue of [undefined, 'postgres://db/x', 'nats://127.0.0.1:4222']) {
      expect(() => validateSocketIOOptions({ rateLimit, messageQueue })).toThrow(
        /"rateLimit" has store: 'messageQueue', which counts in the message queue's Redis/,
      );
    }
    for (const messageQueue of ['redis://127.0.0.1', 'rediss://cache:6380']) {
      expect(() => validateSocketIOOptions({ rateLimit, messageQueue })).not.toThrow();
    }
    expect(() =>
      validateSocketIOOptions({ rateLimit: { points: 5, duration: 1000, store: 'redis' } }),
    ).toThrow(/"rateLimit" must be .*store 'memory' or 'messageQueue'/);
  });
});

describe("wsEngine: 'eiows'", () => {
  it('is refused on Node 20 (its addon needs Node 22+), named with the Node version', () => {
    expect(wsEngineProblem('eiows', '20.19.0')).toBe(
      "is 'eiows', which needs Node 22 or newer (this is Node 20.19.0): use 'ws' (the default) on this Node",
    );
  });

  it('is accepted on Node 22 and 24', () => {
    expect(wsEngineProblem('eiows', '22.12.0')).toBeUndefined();
    expect(wsEngineProblem('eiows', '24.1.0')).toBeUndefined();
  });
});

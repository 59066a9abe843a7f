import type { SocketIOModuleOptions } from './interfaces/socket-io-module-options.interface.js';
import { MESSAGE_QUEUE_KINDS, messageQueueKind } from './queue/queue-kinds.js';
import { REDIS_QUEUE_TYPES } from './guards/rate-limit-store.js';
import { adminUiProblem } from './observability/admin-ui.js';
import { presenceOptionProblem } from './presence/presence-options.js';
import { wsEngineProblem } from './outbound/ws-engine.js';

/** Thrown at start-up when an option is unknown or has the wrong type; the message names it. */
export class InvalidSocketIOOptionError extends Error {
  override readonly name = 'InvalidSocketIOOptionError';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`SocketIOModule option "${option}" ${detail}`);
  }
}

type Check = (value: unknown) => string | undefined;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isOrigin = (v: unknown) => typeof v === 'string' || v instanceof RegExp;

/** `a, b or c` */
const orList = (items: string[]) =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}` : items[0];

const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
const positiveNumber: Check = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'must be a positive number';
const func: Check = (v) => (typeof v === 'function' ? undefined : 'must be a function');

const checks: Record<keyof SocketIOModuleOptions, Check> = {
  path: (v) =>
    typeof v === 'string' && v.startsWith('/') ? undefined : "must be a string starting with '/'",
  cors: (v) => {
    if (v === true || v === '*' || isOrigin(v)) return undefined;
    if (Array.isArray(v)) return v.every(isOrigin) ? undefined : 'must list strings or RegExps';
    if (isPlainObject(v) && 'origin' in v) return undefined;
    return "must be '*', true, an origin, a list of origins, or { origin, credentials? }";
  },
  transports: (v) =>
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((t) => t === 'polling' || t === 'websocket' || t === 'webtransport')
      ? undefined
      : "must be a non-empty list of 'polling', 'websocket', 'webtransport'",
  pingInterval: positiveNumber,
  pingTimeout: positiveNumber,
  maxHttpBufferSize: positiveNumber,
  maxBufferedBytes: positiveNumber,
  cookie: (v) =>
    typeof v === 'boolean' || isPlainObject(v) ? undefined : 'must be a boolean or cookie options',
  parser: (v) =>
    v === 'default' || v === 'msgpack' ? undefined : "must be 'default' or 'msgpack'",
  connectionStateRecovery: (v) => {
    if (typeof v === 'boolean') return undefined;
    if (!isPlainObject(v)) return 'must be a boolean or an object';
    return (v as { skipMiddlewares?: unknown }).skipMiddlewares === true
      ? 'skipMiddlewares: true is not supported: connection guards run for recovered clients too'
      : undefined;
  },
  wsEngine: (v) => wsEngineProblem(v),
  serverOptions: (v) => (isPlainObject(v) ? undefined : 'must be an object'),
  alwaysConnect: bool,
  manageSession: bool,
  session: func,
  connectionGuards: (v) =>
    Array.isArray(v) &&
    v.every(
      (g) => typeof g === 'function' || (isPlainObject(g) && typeof g.canActivate === 'function'),
    )
      ? undefined
      : 'must be a list of guard classes or instances',
  messageQueue: (v) => {
    if (typeof v === 'string') {
      if (messageQueueKind(v)) return undefined;
      const schemes = MESSAGE_QUEUE_KINDS.flatMap((k) => k.schemes.map((s) => `${s}://`));
      return `must be a ${orList(schemes)} URL`;
    }
    if (!isPlainObject(v)) return 'must be a URL or { type, url }';
    if (!MESSAGE_QUEUE_KINDS.some((k) => k.type === v.type)) {
      return `type must be ${orList(MESSAGE_QUEUE_KINDS.map((k) => `'${k.type}'`))}`;
    }
    return typeof v.url === 'string' ? undefined : 'url must be a string';
  },
  channel: (v) =>
    typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string',
  adapter: func,
  emitterOnly: bool,
  defaultErrorHandler: func,
  allowUnsafe: bool,
  logger: (v) =>
    typeof v === 'boolean' || (isPlainObject(v) && typeof v.log === 'function')
      ? undefined
      : 'must be a boolean or a LoggerService',
  rateLimit: (v) =>
    isPlainObject(v) &&
    positiveNumber(v.points) === undefined &&
    positiveNumber(v.duration) === undefined &&
    (v.key === undefined || typeof v.key === 'function') &&
    (v.store === undefined || v.store === 'memory' || v.store === 'messageQueue')
      ? undefined
      : "must be { points, duration, key?, store? } with positive numbers, a key function and store 'memory' or 'messageQueue'",
  handlerTimeout: positiveNumber,
  directDispatch: bool,
  broadcastSlicing: (v) => {
    if (v === false) return undefined;
    if (!isPlainObject(v)) return 'must be false or { threshold?, sliceSize?, sliceMs? }';
    for (const [key, value] of Object.entries(v)) {
      if (key !== 'threshold' && key !== 'sliceSize' && key !== 'sliceMs') {
        return `has an unknown key "${key}" (it takes threshold, sliceSize and sliceMs)`;
      }
      if (value !== undefined && !(Number.isInteger(value) && (value as number) > 0)) {
        return `${key} must be a positive integer`;
      }
    }
    return undefined;
  },
  shutdownGrace: (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0
      ? undefined
      : 'must be a number of milliseconds, 0 or more',
  adminUi: adminUiProblem,
  presence: presenceOptionProblem,
};

/** Checks every option and throws an `InvalidSocketIOOptionError` naming the first wrong one. */
export function validateSocketIOOptions(options: unknown): SocketIOModuleOptions {
  if (options === undefined || options === null) return {};
  if (!isPlainObject(options)) {
    throw new InvalidSocketIOOptionError('(options)', 'must be an object');
  }
  for (const [key, value] of Object.entries(options)) {
    const check = checks[key as keyof SocketIOModuleOptions];
    if (!check) {
      throw new InvalidSocketIOOptionError(
        key,
        `is unknown. Known options: ${Object.keys(checks).join(', ')}`,
      );
    }
    if (value === undefined) continue;
    const problem = check(value);
    if (problem) throw new InvalidSocketIOOptionError(key, problem);
  }
  const opts = options as SocketIOModuleOptions;
  if (opts.emitterOnly && !opts.messageQueue) {
    // An adapter serves a server's clients; a worker has no server to emit through.
    throw new InvalidSocketIOOptionError(
      'emitterOnly',
      'needs a messageQueue (a Redis, Postgres, AMQP or NATS URL) to emit through; the adapter option alone cannot emit without a server',
    );
  }
  if (opts.rateLimit?.store === 'messageQueue') {
    const kind = opts.messageQueue === undefined ? undefined : messageQueueKind(opts.messageQueue);
    if (!kind || !REDIS_QUEUE_TYPES.includes(kind.type)) {
      throw new InvalidSocketIOOptionError(
        'rateLimit',
        "has store: 'messageQueue', which counts in the message queue's Redis: set messageQueue to a redis:// or rediss:// URL, or use store: 'memory'",
      );
    }
  }
  return opts;
}

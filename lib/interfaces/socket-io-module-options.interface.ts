import type {
  CanActivate,
  InjectionToken,
  LoggerService,
  ModuleMetadata,
  OptionalFactoryDependency,
  Type,
} from '@nestjs/common';
import type { ServerOptions, Socket } from 'socket.io';
import type { SocketContextApi } from '../context/socket-context.interface.js';
import type { PresenceOptions } from '../presence/presence.types.js';
import type { WsEngineOption } from '../outbound/ws-engine.js';

/** A middleware with the shape of express-session's: `(req, res, next) => void`. */
export type SessionMiddleware = (req: any, res: any, next: (err?: unknown) => void) => void;

/** Which origins may open a socket; see the README's CORS section. */
export type CorsOrigin = string | RegExp | (string | RegExp)[];

/** CORS settings: `'*'` or `true` for any origin, an origin list, or socket.io's own object. */
export type SocketIOCorsOption =
  | true
  | '*'
  | CorsOrigin
  | {
      origin:
        | true
        | '*'
        | CorsOrigin
        | ((origin: string | undefined, cb: (err: Error | null, allow?: boolean) => void) => void);
      credentials?: boolean;
      methods?: string | string[];
      allowedHeaders?: string | string[];
      exposedHeaders?: string | string[];
      maxAge?: number;
    };

/** The object form of `messageQueue`. */
export interface MessageQueueOptions {
  /** `redis` (pub/sub), `redis-sharded` (Redis 7 sharded pub/sub), `redis-streams`, `postgres`, `amqp` (RabbitMQ) or `nats`. */
  type: 'redis' | 'redis-sharded' | 'redis-streams' | 'postgres' | 'amqp' | 'nats';
  /** Connection URL: `redis://`, `rediss://`, `postgres://`, `amqp://`, `amqps://` or `nats://`. */
  url: string;
  /** Extra options handed to the socket.io adapter as they are. */
  adapterOptions?: Record<string, unknown>;
}

/**
 * Replaces the error reply: its return value (unless `undefined`) becomes the ack or `exception`
 * payload. The context is the application's `SocketContext` (declared with a method's parameter
 * check, so a handler typed `(error, context: SocketContext) => ...` fits).
 */
export type SocketErrorHandler = {
  handle(error: unknown, context: SocketContextApi): unknown;
}['handle'];

/** Per-connection rate limit: at most `points` events per `duration` milliseconds. */
export interface RateLimitOptions {
  /** Connection attempts and events allowed per key and window. */
  points: number;
  /** The window, in milliseconds. */
  duration: number;
  /**
   * What the limit is counted per: one that reconnecting does not change.
   * @default the client's address (`socket.handshake.address`)
   */
  key?: (socket: Socket) => string;
  /** Disconnect a client that goes over the limit this many times in a row. @default undefined (never) */
  disconnectAfter?: number;
  /**
   * Where the points are counted: `'memory'` in each process, `'messageQueue'` in the Redis of
   * a `redis://` (or `rediss://`) `messageQueue`, shared by every process of the app (a client
   * that reconnects to another process is still limited; if that Redis is down, each process
   * counts on its own until it is back).
   * @default 'memory'
   */
  store?: 'memory' | 'messageQueue';
}

/** The `adminUi` option: @socket.io/admin-ui on its own namespace, with its own auth and origin. */
export interface AdminUiOptions {
  /** Basic auth: a username and a bcrypt hash of the password; `false` (refused in production) disables it. */
  auth: { username: string; password: string } | false;
  /** Origin(s) of the admin UI page, let in for the admin namespace only. @default 'https://admin.socket.io' */
  origin?: CorsOrigin;
  /** The admin namespace. @default '/admin' */
  namespace?: string;
  /** Hide the UI's actions (disconnect, join, leave). @default false */
  readonly?: boolean;
  /** 'development' streams every event to the UI; 'production' only aggregates. @default 'production' when NODE_ENV is, else 'development' */
  mode?: 'development' | 'production';
  /** This server's name in the UI. @default the host name */
  serverId?: string;
}

/** The `broadcastSlicing` option: when and how finely a large broadcast is written in slices. */
export interface BroadcastSlicingOptions {
  /** A broadcast to at least this many clients of this process is sliced. @default 1000 */
  threshold?: number;
  /** Clients written per event-loop turn, at most. @default 250 */
  sliceSize?: number;
  /**
   * Milliseconds one slice may take: a slice ends early once it has written for this long (on a
   * slower machine, or when each write costs more with many clients). @default 4
   */
  sliceMs?: number;
}

/** Options of `SocketIOModule.forRoot()`; every one is optional. */
export interface SocketIOModuleOptions {
  /** Path the Socket.IO endpoint is served on. @default '/socket.io' */
  path?: string;
  /** Origins allowed to connect. @default same origin only */
  cors?: SocketIOCorsOption;
  /** Transports offered to clients, in order. @default ['polling', 'websocket'] */
  transports?: ('polling' | 'websocket' | 'webtransport')[];
  /** Milliseconds between server pings. @default 25000 */
  pingInterval?: number;
  /** Milliseconds without a pong before the connection is dropped. @default 20000 */
  pingTimeout?: number;
  /** Largest packet accepted, in bytes; larger ones close the connection. @default 1e6 */
  maxHttpBufferSize?: number;
  /**
   * Bytes one client may have waiting to be sent (it stopped reading, or polls too rarely);
   * past it, its connection is closed. @default 16777216 (16 MiB)
   */
  maxBufferedBytes?: number;
  /** The Engine.IO `io` cookie for sticky sessions: `true`, or its cookie options. @default false */
  cookie?: boolean | ({ name?: string } & Record<string, unknown>);
  /** Wire format: socket.io's default JSON parser, or MessagePack. @default 'default' */
  parser?: 'default' | 'msgpack';
  /**
   * Replays missed packets to clients that reconnect in time. Recovered clients pass the
   * connection guards again and keep their managed session (`skipMiddlewares` must stay false).
   * @default false
   */
  connectionStateRecovery?:
    boolean | { maxDisconnectionDuration?: number; skipMiddlewares?: false };
  /**
   * The WebSocket server under Engine.IO: `'ws'` (its default, faster on large frames with
   * `bufferutil` installed), `'eiows'` (an optional peer, Node 22+), or a ws-compatible server
   * class. See Performance, "Faster engines". @default 'ws'
   */
  wsEngine?: WsEngineOption;
  /** Anything else socket.io's `ServerOptions` takes; applied last. @default {} */
  serverOptions?: Partial<ServerOptions>;
  /** Accept clients before connection guards and `handleConnection` run, and disconnect refused ones. @default false */
  alwaysConnect?: boolean;
  /** Give each connection its own copy of the HTTP session (true), or share the HTTP session (false). @default true */
  manageSession?: boolean;
  /** An express-session middleware; it runs on the handshake so the socket finds the HTTP session. @default undefined */
  session?: SessionMiddleware;
  /** Guards run for every namespace before a client is accepted. @default [] */
  connectionGuards?: (CanActivate | Type<CanActivate>)[];
  /** Message queue that joins several processes: a `redis://`, `rediss://`, `postgres://`, `amqp://`, `amqps://` or `nats://` URL, or an object. @default undefined (in memory) */
  messageQueue?: string | MessageQueueOptions;
  /** Prefix of every message-queue key and channel. @default 'nest-socketio' */
  channel?: string;
  /** Any socket.io adapter constructor or factory (`server.adapter(...)`); wins over `messageQueue`. @default undefined */
  adapter?: unknown;
  /** No HTTP and no Socket.IO server: `SocketService` emits through the message queue only. @default false */
  emitterOnly?: boolean;
  /** Error handler for namespaces without an `@OnSocketError()` method. @default undefined */
  defaultErrorHandler?: SocketErrorHandler;
  /** Start in production even with settings the safety check calls unsafe (they are logged). @default false */
  allowUnsafe?: boolean;
  /** Logger for the module, or `false` to silence it. @default Nest's Logger with context 'SocketIO' */
  logger?: LoggerService | boolean;
  /** Per-connection rate limit; excess events are answered with status 429. @default undefined */
  rateLimit?: RateLimitOptions;
  /** Milliseconds a handler may run before the client gets status 504. @default undefined (no limit) */
  handlerTimeout?: number;
  /**
   * Call handlers without guards, interceptors, pipes or filters directly, and run the guards,
   * interceptors and pipes of the others in a chain compiled once per handler, not through Nest's
   * chain (see Performance); `false` keeps Nest's chain for every handler. @default true
   */
  directDispatch?: boolean;
  /**
   * Writes a broadcast to many clients of this process in slices, one per event-loop turn, so
   * the server keeps answering meanwhile (each client still gets its packets in order; see
   * Performance); `false` writes every broadcast at once, as socket.io does.
   * @default { threshold: 1000, sliceSize: 250, sliceMs: 4 }
   */
  broadcastSlicing?: BroadcastSlicingOptions | false;
  /**
   * Milliseconds a shutdown waits for the handlers in flight to answer before it disconnects
   * their clients. @default 3000
   */
  shutdownGrace?: number;
  /** Serve @socket.io/admin-ui's namespace (an optional peer). @default undefined (off) */
  adminUi?: AdminUiOptions;
  /** `PresenceService` timing: heartbeat period and the silence after which a process's presences are dropped. @default { heartbeatInterval: 5000, timeout: 15000 } */
  presence?: PresenceOptions;
}

/** Creates the options for `forRootAsync({ useClass })` and `useExisting`. */
export interface SocketIOOptionsFactory {
  createSocketIOOptions(): SocketIOModuleOptions | Promise<SocketIOModuleOptions>;
}

/** Options of `SocketIOModule.forRootAsync()`. */
export interface SocketIOModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory?: (...args: never[]) => SocketIOModuleOptions | Promise<SocketIOModuleOptions>;
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useClass?: Type<SocketIOOptionsFactory>;
  useExisting?: Type<SocketIOOptionsFactory>;
}

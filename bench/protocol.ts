/** The servers compared, in table order; `raw` is the baseline every ratio divides by. */
export const SERVER_KINDS = [
  'raw',
  'nest-gateway',
  'nest-socketio',
  'nest-socketio-guarded',
  'nest-socketio-otel',
] as const;
/**
 * Run only when asked for (`--servers`): nest-socketio built from another commit, whose compiled
 * `index.js` `BENCH_BASE_LIB` names; the run compares this commit with it side by side.
 */
export const EXTRA_KINDS = [
  'nest-socketio-base',
  // The OpenTelemetry server's cost split: the meter provider alone, the tracer provider alone.
  'nest-socketio-otel-metrics',
  'nest-socketio-otel-traces',
  // Raw socket.io with the same SDK doing the same work per event by hand: the SDK's own cost.
  'raw-otel',
  // The enhanced path: a global ValidationPipe alone; with a gateway guard and interceptor too;
  // and that same app on Nest's own chain (directDispatch: false), side by side.
  'nest-socketio-pipe',
  'nest-socketio-enhanced',
  'nest-socketio-enhanced-nest',
  // The module with broadcastSlicing: false: each large emit written at once, as raw does.
  'nest-socketio-unsliced',
] as const;
export type ServerKind = (typeof SERVER_KINDS)[number] | (typeof EXTRA_KINDS)[number];

/**
 * The WebSocket engine of a server: `ws` as installed (the default, and the baseline's), `ws`
 * with its native helpers `bufferutil` and `utf-8-validate`, or `eiows` (Node 22+). Servers not
 * on `bufferutil` run with `WS_NO_BUFFER_UTIL`/`WS_NO_UTF_8_VALIDATE`, so installing the helpers
 * for a run never changes the baseline.
 */
export const ENGINES = ['ws', 'bufferutil', 'eiows'] as const;
export type Engine = (typeof ENGINES)[number];
/** A server of a run: a kind, optionally on another engine (`nest-socketio@eiows`). */
export type ServerLabel = ServerKind | `${ServerKind}@${Engine}`;

/** The kind and engine of a `--servers` entry; throws naming the entry when either is unknown. */
export function parseServer(label: string): { kind: ServerKind; engine?: Exclude<Engine, 'ws'> } {
  const [kind, engine] = label.split('@') as [ServerKind, Engine | undefined];
  if (![...SERVER_KINDS, ...EXTRA_KINDS].includes(kind)) {
    throw new Error(`unknown server ${label}: kinds are ${[...SERVER_KINDS, ...EXTRA_KINDS]}`);
  }
  if (engine !== undefined && !ENGINES.includes(engine)) {
    throw new Error(`unknown engine in ${label}: engines are ${ENGINES.join(', ')}`);
  }
  return engine === undefined || engine === 'ws' ? { kind } : { kind, engine };
}

/** How a server process is started (passed as JSON in its first argument). */
export interface ServerConfig {
  kind: ServerKind;
  /** Another engine than `ws` without native helpers. */
  engine?: Exclude<Engine, 'ws'>;
  /** Redis URL and channel: the server joins the others through the Redis adapter. */
  redis?: { url: string; channel: string };
}

/** Commands the harness sends a server process over IPC. */
export type ServerCommand =
  | { id: number; cmd: 'mark' }
  | { id: number; cmd: 'measure' }
  | { id: number; cmd: 'memory' }
  | { id: number; cmd: 'broadcast'; count: number; room?: string; paceMs?: number }
  | { id: number; cmd: 'bigEmit'; via: EmitVia }
  | { id: number; cmd: 'loopBlock' }
  | { id: number; cmd: 'close' };

/**
 * How a large emit is sent: `service` (raw: `io.emit`; the module: `SocketService.emit`),
 * `server` (`@WebSocketServer() server.emit`; raw: `io.emit` again), `room` (to a room every
 * client joined).
 */
export type EmitVia = 'service' | 'server' | 'room';
export const EMIT_VIAS: readonly EmitVia[] = ['service', 'server', 'room'];
/** The room every client of the large-broadcast session joins. */
export const ALL_ROOM = 'all';

/** A clock shared by the processes of one machine: milliseconds since the epoch, sub-ms. */
export const sharedNow = () => performance.timeOrigin + performance.now();

/** What a server reports about itself, measured from inside its own process. */
export interface ServerMeasure {
  /** CPU time (user + system) since the last `mark`, in microseconds. */
  cpuUs: number;
  rss: number;
  heapUsed: number;
}

/** Commands the harness sends a load generator over IPC. */
export type LoadCommand =
  | {
      id: number;
      cmd: 'connect';
      urls: string[];
      count: number;
      concurrency: number;
      auth?: Record<string, unknown>;
      cookie?: string;
    }
  | { id: number; cmd: 'join'; clients: number; room: string }
  | { id: number; cmd: 'echo'; messages: number; inFlight: number }
  | { id: number; cmd: 'arm'; perClient: number; clients?: number }
  | { id: number; cmd: 'wait'; timeoutMs: number }
  | { id: number; cmd: 'whoami' }
  | { id: number; cmd: 'close' };

/** The event every broadcast workload emits, and its payload. */
export const TICK = 'tick';
export const tickPayload = (n: number) => ({ n, text: 'the quick brown fox jumps over' });

/** An IPC reply: the command's id plus its result, or an error message. */
export interface Reply {
  id: number;
  error?: string;
  [key: string]: unknown;
}

/** Serves IPC commands in a child process; each handler's result is sent back with the id. */
export function serveCommands<C extends { id: number; cmd: string }>(
  handle: (command: C) => Promise<Record<string, unknown> | void>,
): void {
  process.on('message', (command: C) => {
    handle(command).then(
      (result) => process.send!({ id: command.id, ...result }),
      (err: unknown) =>
        process.send!({ id: command.id, error: err instanceof Error ? err.stack : String(err) }),
    );
  });
}

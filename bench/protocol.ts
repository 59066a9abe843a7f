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
  // The module with broadcastSlicing: false: each large emit written at once, as raw does.
  'nest-socketio-unsliced',
] as const;
export type ServerKind = (typeof SERVER_KINDS)[number] | (typeof EXTRA_KINDS)[number];

/** How a server process is started (passed as JSON in its first argument). */
export interface ServerConfig {
  kind: ServerKind;
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

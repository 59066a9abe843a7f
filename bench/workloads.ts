import { fileURLToPath } from 'node:url';
import { ChildProcessDriver as Child } from '../test/support/child-process.js';
import { parseServer, type Reply, type ServerLabel, type ServerMeasure } from './protocol.js';

/** Sizes of one run; `FULL` by default, `TINY` for the test suite. */
export interface Sizes {
  rounds: number;
  echoClients: number;
  echoInFlight: number;
  echoWarmup: number;
  echoMessages: number;
  fanoutSmall: number;
  fanoutSmallBroadcasts: number;
  fanoutLarge: number;
  fanoutLargeBroadcasts: number;
  roomClients: number;
  roomMembers: number;
  roomBroadcasts: number;
  redisClients: number;
  redisBroadcasts: number;
  idleClients: number;
  connectConcurrency: number;
  /** The large-broadcast session (`big`): its two crowd sizes, and emits per way per size. */
  bigClients: [number, number];
  bigRepeats: number;
  /** The `idle15k` session: idle connections on one server, the first `burstClients` at once. */
  idleLargeClients: number;
  burstClients: number;
}

export const FULL: Sizes = {
  rounds: 5,
  echoClients: 50,
  echoInFlight: 4,
  echoWarmup: 5_000,
  echoMessages: 40_000,
  fanoutSmall: 1_000,
  fanoutSmallBroadcasts: 200,
  fanoutLarge: 5_000,
  fanoutLargeBroadcasts: 40,
  roomClients: 2_000,
  roomMembers: 100,
  roomBroadcasts: 2_000,
  redisClients: 1_000,
  redisBroadcasts: 100,
  idleClients: 5_000,
  connectConcurrency: 50,
  bigClients: [5_000, 15_000],
  bigRepeats: 3,
  idleLargeClients: 15_000,
  burstClients: 5_000,
};

export const TINY: Sizes = {
  rounds: 1,
  echoClients: 5,
  echoInFlight: 2,
  echoWarmup: 20,
  echoMessages: 100,
  fanoutSmall: 10,
  fanoutSmallBroadcasts: 5,
  fanoutLarge: 20,
  fanoutLargeBroadcasts: 5,
  roomClients: 15,
  roomMembers: 4,
  roomBroadcasts: 5,
  redisClients: 6,
  redisBroadcasts: 5,
  idleClients: 30,
  connectConcurrency: 10,
  bigClients: [20, 40],
  bigRepeats: 1,
  idleLargeClients: 40,
  burstClients: 20,
};

/** Every figure the table shows: its unit, whether lower is better, and its target ratio. */
export const METRICS = {
  'echo.cpuUsPerMsg': { label: 'echo: server CPU per request+ack', unit: 'µs' },
  'echo.msgPerSec': { label: 'echo: throughput (wall clock)', unit: 'msg/s', higher: true },
  'fanout1k.cpuUsPerDelivery': { label: 'fan-out to 1,000: CPU per delivered msg', unit: 'µs' },
  'fanout5k.cpuUsPerDelivery': { label: 'fan-out to 5,000: CPU per delivered msg', unit: 'µs' },
  'room.cpuUsPerDelivery': { label: 'room of 100 in 2,000: CPU per delivered msg', unit: 'µs' },
  'redis.cpuUsPerDelivery': { label: 'Redis, 2 processes: CPU per delivered msg', unit: 'µs' },
  'idle.heapBytesPerConn': { label: 'idle memory per connection (heap)', unit: 'B' },
  'idle.rssBytesPerConn': { label: 'idle memory per connection (RSS)', unit: 'B' },
  'connect.cpuUsPerConn': { label: 'connection set-up: server CPU per connection', unit: 'µs' },
  'connect.connPerSec': {
    label: 'connection set-up rate (wall clock)',
    unit: 'conn/s',
    higher: true,
  },
  'big5k.service.blockMs': {
    label: 'emit to 5,000, SocketService.emit / io.emit: longest loop block',
    unit: 'ms',
  },
  'big5k.service.blockCpuMs': {
    label: 'emit to 5,000, SocketService.emit / io.emit: longest block (CPU)',
    unit: 'ms',
  },
  'big5k.service.lastMs': {
    label: 'emit to 5,000, SocketService.emit / io.emit: last client served',
    unit: 'ms',
  },
  'big5k.server.blockMs': {
    label: 'emit to 5,000, @WebSocketServer() server.emit: longest loop block',
    unit: 'ms',
  },
  'big5k.server.blockCpuMs': {
    label: 'emit to 5,000, @WebSocketServer() server.emit: longest block (CPU)',
    unit: 'ms',
  },
  'big5k.server.lastMs': {
    label: 'emit to 5,000, @WebSocketServer() server.emit: last client served',
    unit: 'ms',
  },
  'big5k.room.blockMs': {
    label: 'emit to 5,000, to a room of all: longest loop block',
    unit: 'ms',
  },
  'big5k.room.blockCpuMs': {
    label: 'emit to 5,000, to a room of all: longest block (CPU)',
    unit: 'ms',
  },
  'big5k.room.lastMs': { label: 'emit to 5,000, to a room of all: last client served', unit: 'ms' },
  'big15k.service.blockMs': {
    label: 'emit to 15,000, SocketService.emit / io.emit: longest loop block',
    unit: 'ms',
  },
  'big15k.service.blockCpuMs': {
    label: 'emit to 15,000, SocketService.emit / io.emit: longest block (CPU)',
    unit: 'ms',
  },
  'big15k.service.lastMs': {
    label: 'emit to 15,000, SocketService.emit / io.emit: last client served',
    unit: 'ms',
  },
  'big15k.server.blockMs': {
    label: 'emit to 15,000, @WebSocketServer() server.emit: longest loop block',
    unit: 'ms',
  },
  'big15k.server.blockCpuMs': {
    label: 'emit to 15,000, @WebSocketServer() server.emit: longest block (CPU)',
    unit: 'ms',
  },
  'big15k.server.lastMs': {
    label: 'emit to 15,000, @WebSocketServer() server.emit: last client served',
    unit: 'ms',
  },
  'big15k.room.blockMs': {
    label: 'emit to 15,000, to a room of all: longest loop block',
    unit: 'ms',
  },
  'big15k.room.blockCpuMs': {
    label: 'emit to 15,000, to a room of all: longest block (CPU)',
    unit: 'ms',
  },
  'big15k.room.lastMs': {
    label: 'emit to 15,000, to a room of all: last client served',
    unit: 'ms',
  },
  'idle15k.heapBytesPerConn': { label: '15,000 idle: heap per connection', unit: 'B' },
  'idle15k.rssBytesPerConn': { label: '15,000 idle: RSS per connection', unit: 'B' },
  'idle15k.cpuUsPerConn': { label: '15,000 idle: set-up CPU per connection', unit: 'µs' },
  'burst5k.acceptMs': { label: 'burst of 5,000 at once: time to accept all', unit: 'ms' },
  'burst5k.cpuUsPerConn': { label: 'burst of 5,000 at once: CPU per connection', unit: 'µs' },
} as const satisfies Record<string, { label: string; unit: string; higher?: boolean }>;
export type MetricName = keyof typeof METRICS;
export type Figures = Partial<Record<MetricName, number>>;

/** What a session checked besides the figures (e.g. that sessions were live). */
export interface Checks {
  sessionsLive?: boolean;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const SERVER_MAIN = here('./servers/main.js');
const LOAD_MAIN = here('./load.js');

/** Options of a run that reach the child processes. */
export interface RunEnv {
  redisUrl: string;
  /** Extra node flags for server processes, e.g. `--cpu-prof`. */
  serverFlags: string[];
}

/** How long a workload step may take in a child process. */
const REQUEST_TIMEOUT = 180_000;
export const CLOSE = { cmd: 'close' };
/** A child's first message, once it listens or is ready to load: the reply with id 0. */
const isReady = (m: { id?: number }) => m.id === 0;

export async function startServer(
  label: ServerLabel,
  env: RunEnv,
  redis?: { url: string; channel: string },
  tag = '',
): Promise<[Child, number]> {
  const config = { ...parseServer(label), redis };
  const child = Child.fork(
    `server ${label}${tag}`,
    SERVER_MAIN,
    { args: [JSON.stringify(config)], execArgv: ['--expose-gc', ...env.serverFlags] },
    REQUEST_TIMEOUT,
  );
  const ready = await child.waitFor(isReady);
  return [child, ready.port as number];
}

export async function startLoad(): Promise<Child> {
  const child = Child.fork(
    'load generator',
    LOAD_MAIN,
    { execArgv: ['--max-old-space-size=4096'] },
    REQUEST_TIMEOUT,
  );
  await child.waitFor(isReady);
  return child;
}

interface ClientAccess {
  auth?: Record<string, unknown>;
  cookie?: string;
}

/** The guarded variant wants a token and, with sessions, the cookie of a logged-in user. */
export async function clientAccess(label: ServerLabel, port: number): Promise<ClientAccess> {
  if (parseServer(label).kind !== 'nest-socketio-guarded') return {};
  const res = await fetch(`http://127.0.0.1:${port}/login`);
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  return { auth: { token: 'bench-token' }, cookie };
}

export const measure = (server: Child) => server.request<Reply & ServerMeasure>({ cmd: 'measure' });

async function broadcastRound(
  server: Child,
  load: Child,
  count: number,
  members: number,
  room?: string,
  paceMs?: number,
): Promise<number> {
  await load.request({ cmd: 'arm', perClient: count, clients: members });
  await server.request({ cmd: 'broadcast', count, room, paceMs });
  const got = await load.request({ cmd: 'wait', timeoutMs: 120_000 });
  if (got.stray !== 0) throw new Error(`${got.stray} ticks reached clients outside the room`);
  return got.received as number;
}

/** CPU per delivered message of `count` broadcasts (after a warm-up of a few). */
async function fanout(
  server: Child,
  load: Child,
  count: number,
  members: number,
  room?: string,
  paceMs?: number,
) {
  await broadcastRound(server, load, Math.min(count, 5), members, room, paceMs);
  await server.request({ cmd: 'mark' });
  const received = await broadcastRound(server, load, count, members, room, paceMs);
  const { cpuUs } = await measure(server);
  return cpuUs / received;
}

/**
 * One server process and one load generator: echo, then fan-out to the small crowd, a room of
 * the room crowd, and fan-out to the large crowd, growing the crowd between steps.
 */
export async function mainSession(
  kind: ServerLabel,
  sizes: Sizes,
  env: RunEnv,
  only?: 'echo' | 'room',
): Promise<[Figures, Checks]> {
  const [server, port] = await startServer(kind, env);
  const load = await startLoad();
  try {
    const access = clientAccess(kind, port);
    const url = `http://127.0.0.1:${port}`;
    const connect = async (count: number) =>
      load.request({
        cmd: 'connect',
        urls: [url],
        count,
        concurrency: sizes.connectConcurrency,
        ...(await access),
      });
    const figures: Figures = {};
    await connect(sizes.echoClients);
    const checks: Checks = {};
    if (parseServer(kind).kind === 'nest-socketio-guarded') {
      const who = await load.request({ cmd: 'whoami' });
      checks.sessionsLive = who.user === 'bench-user';
    }
    if (only !== 'room') {
      const inFlight = sizes.echoInFlight;
      await load.request({ cmd: 'echo', messages: sizes.echoWarmup, inFlight });
      await server.request({ cmd: 'mark' });
      const echo = await load.request({ cmd: 'echo', messages: sizes.echoMessages, inFlight });
      const { cpuUs } = await measure(server);
      if (echo.bad !== 0) throw new Error(`${echo.bad} echo acks carried the wrong payload`);
      figures['echo.cpuUsPerMsg'] = cpuUs / (echo.acks as number);
      figures['echo.msgPerSec'] = ((echo.acks as number) / (echo.ms as number)) * 1000;
      if (only === 'echo') return [figures, checks];
    }

    await connect(sizes.fanoutSmall - sizes.echoClients);
    if (only !== 'room') {
      figures['fanout1k.cpuUsPerDelivery'] = await fanout(
        server,
        load,
        sizes.fanoutSmallBroadcasts,
        sizes.fanoutSmall,
      );
    }

    await connect(sizes.roomClients - sizes.fanoutSmall);
    await load.request({ cmd: 'join', clients: sizes.roomMembers, room: 'bench-room' });
    figures['room.cpuUsPerDelivery'] = await fanout(
      server,
      load,
      sizes.roomBroadcasts,
      sizes.roomMembers,
      'bench-room',
      // Paced: 100 recipients per emit drain fast enough to send each emit on its own, whereas
      // back to back the writes batch up by chance and the figure swings by half.
      0,
    );
    if (only === 'room') return [figures, checks];

    await connect(sizes.fanoutLarge - sizes.roomClients);
    figures['fanout5k.cpuUsPerDelivery'] = await fanout(
      server,
      load,
      sizes.fanoutLargeBroadcasts,
      sizes.fanoutLarge,
    );
    return [figures, checks];
  } finally {
    await load.stop(CLOSE);
    await server.stop(CLOSE);
  }
}

/** A fresh server: connection set-up cost and rate, then idle memory per connection. */
export async function connectionSession(
  kind: ServerLabel,
  sizes: Sizes,
  env: RunEnv,
): Promise<Figures> {
  const [server, port] = await startServer(kind, env);
  const load = await startLoad();
  try {
    const access = await clientAccess(kind, port);
    const url = `http://127.0.0.1:${port}`;
    const concurrency = sizes.connectConcurrency;
    // A first batch warms up the code paths before anything is measured.
    await load.request({ cmd: 'connect', urls: [url], count: concurrency, concurrency, ...access });
    const before = await server.request<Reply & ServerMeasure>({ cmd: 'memory' });
    await server.request({ cmd: 'mark' });
    const count = sizes.idleClients - concurrency;
    const done = await load.request({ cmd: 'connect', urls: [url], count, concurrency, ...access });
    const { cpuUs } = await measure(server);
    const after = await server.request<Reply & ServerMeasure>({ cmd: 'memory' });
    return {
      'connect.cpuUsPerConn': cpuUs / count,
      'connect.connPerSec': (count / (done.ms as number)) * 1000,
      'idle.heapBytesPerConn': (after.heapUsed - before.heapUsed) / count,
      'idle.rssBytesPerConn': (after.rss - before.rss) / count,
    };
  } finally {
    await load.stop(CLOSE);
    await server.stop(CLOSE);
  }
}

/** Two server processes joined by the Redis adapter; one broadcasts, both deliver. */
export async function redisSession(
  kind: ServerLabel,
  sizes: Sizes,
  env: RunEnv,
  round: number,
): Promise<Figures> {
  const redis = { url: env.redisUrl, channel: `nest-socketio-bench-${process.pid}-${round}` };
  const [[a, portA], [b, portB]] = await Promise.all([
    startServer(kind, env, redis, ' A'),
    startServer(kind, env, redis, ' B'),
  ]);
  const load = await startLoad();
  try {
    const access = await clientAccess(kind, portA);
    const urls = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    const count = sizes.redisClients;
    const concurrency = sizes.connectConcurrency;
    await load.request({ cmd: 'connect', urls, count, concurrency, ...access });
    // The warm-up also proves both processes are subscribed before anything is measured.
    await broadcastRound(a, load, Math.min(5, sizes.redisBroadcasts), count);
    await Promise.all([a.request({ cmd: 'mark' }), b.request({ cmd: 'mark' })]);
    const received = await broadcastRound(a, load, sizes.redisBroadcasts, count);
    const [ma, mb] = await Promise.all([measure(a), measure(b)]);
    return { 'redis.cpuUsPerDelivery': (ma.cpuUs + mb.cpuUs) / received };
  } finally {
    await load.stop(CLOSE);
    await Promise.all([a.stop(CLOSE), b.stop(CLOSE)]);
  }
}

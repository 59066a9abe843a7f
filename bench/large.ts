import type { ChildProcessDriver as Child } from '../test/support/child-process.js';
import {
  ALL_ROOM,
  EMIT_VIAS,
  type EmitVia,
  type Reply,
  type ServerLabel,
  type ServerMeasure,
} from './protocol.js';
import {
  CLOSE,
  clientAccess,
  measure,
  startLoad,
  startServer,
  type Figures,
  type MetricName,
  type RunEnv,
  type Sizes,
} from './workloads.js';

const median = (values: number[]) => {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * One emit to every client: the server's longest event-loop block from just before the emit
 * until every client got it (1 ms histogram), and when the last client got it, after the emit
 * started (both processes stamp a shared clock).
 */
async function bigEmit(server: Child, load: Child, clients: number, via: EmitVia) {
  await load.request({ cmd: 'arm', perClient: 1, clients });
  const { startedAt } = await server.request({ cmd: 'bigEmit', via });
  const got = await load.request({ cmd: 'wait', timeoutMs: 120_000 });
  const { blockMs, blockCpuMs } = await server.request({ cmd: 'loopBlock' });
  if (got.received !== clients || got.stray !== 0) {
    throw new Error(`${via}: ${got.received} of ${clients} clients got the emit`);
  }
  return {
    blockMs: blockMs as number,
    blockCpuMs: blockCpuMs as number,
    lastMs: (got.lastAt as number) - (startedAt as number),
  };
}

/**
 * Large broadcasts (`--sessions big`): the crowd grows to each size of `bigClients`, every
 * client joins one room, then each way of emitting (`EmitVia`) sends `bigRepeats` emits, one at
 * a time. Per round: the longest block of the repeats, the median time to the last client.
 */
export async function bigSession(kind: ServerLabel, sizes: Sizes, env: RunEnv): Promise<Figures> {
  const [server, port] = await startServer(kind, env);
  const load = await startLoad();
  try {
    const access = await clientAccess(kind, port);
    const url = `http://127.0.0.1:${port}`;
    const figures: Figures = {};
    let connected = 0;
    for (const [index, size] of sizes.bigClients.entries()) {
      const concurrency = sizes.connectConcurrency;
      await load.request({
        cmd: 'connect',
        urls: [url],
        count: size - connected,
        concurrency,
        ...access,
      });
      connected = size;
      await load.request({ cmd: 'join', clients: size, room: ALL_ROOM });
      const tag = index === 0 ? 'big5k' : 'big15k';
      for (const via of EMIT_VIAS) {
        const runs = [];
        for (let i = 0; i < sizes.bigRepeats; i++)
          runs.push(await bigEmit(server, load, size, via));
        figures[`${tag}.${via}.blockMs` as MetricName] = Math.max(...runs.map((r) => r.blockMs));
        figures[`${tag}.${via}.blockCpuMs` as MetricName] = Math.max(
          ...runs.map((r) => r.blockCpuMs),
        );
        figures[`${tag}.${via}.lastMs` as MetricName] = median(runs.map((r) => r.lastMs));
      }
    }
    return figures;
  } finally {
    await load.stop(CLOSE);
    await server.stop(CLOSE);
  }
}

const memory = (server: Child) => server.request<Reply & ServerMeasure>({ cmd: 'memory' });

/**
 * Many idle connections on one server (`--sessions idle15k`): a burst of `burstClients`
 * connecting at once (time until the last is connected, server CPU per connection), then the
 * rest at `connectConcurrency` (set-up CPU per connection), then heap and RSS per connection
 * after full collections.
 */
export async function idleLargeSession(
  kind: ServerLabel,
  sizes: Sizes,
  env: RunEnv,
): Promise<Figures> {
  const [server, port] = await startServer(kind, env);
  const load = await startLoad();
  try {
    const access = await clientAccess(kind, port);
    const urls = [`http://127.0.0.1:${port}`];
    const concurrency = sizes.connectConcurrency;
    // A first batch warms up the code paths before anything is measured.
    await load.request({ cmd: 'connect', urls, count: concurrency, concurrency, ...access });
    const before = await memory(server);
    await server.request({ cmd: 'mark' });
    const burst = sizes.burstClients;
    const all = await load.request({
      cmd: 'connect',
      urls,
      count: burst,
      concurrency: burst,
      ...access,
    });
    const burstCpu = (await measure(server)).cpuUs;
    await server.request({ cmd: 'mark' });
    const rest = sizes.idleLargeClients - concurrency - burst;
    await load.request({ cmd: 'connect', urls, count: rest, concurrency, ...access });
    const { cpuUs } = await measure(server);
    const after = await memory(server);
    const count = burst + rest;
    return {
      'burst5k.acceptMs': all.ms as number,
      'burst5k.cpuUsPerConn': burstCpu / burst,
      'idle15k.cpuUsPerConn': cpuUs / rest,
      'idle15k.heapBytesPerConn': (after.heapUsed - before.heapUsed) / count,
      'idle15k.rssBytesPerConn': (after.rss - before.rss) / count,
    };
  } finally {
    await load.stop(CLOSE);
    await server.stop(CLOSE);
  }
}

import { pathToFileURL } from 'node:url';
import type { ServerCommand, ServerConfig } from '../protocol.js';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { serveCommands, sharedNow, TICK, tickPayload } from '../protocol.js';
import type { BenchServer } from './bench-server.js';

/**
 * A server process under test. It measures itself (CPU time, RSS, heap) and reports over IPC,
 * so the load generator's own cost never enters its figures.
 */
async function start(config: ServerConfig): Promise<BenchServer> {
  switch (config.kind) {
    case 'raw':
      return (await import('./raw.js')).startRaw(config);
    case 'nest-gateway':
      return (await import('./nest-gateway.js')).startNestGateway(config);
    case 'nest-socketio':
      return (await import('./nest-socketio.js')).startNestSocketIO(config, false);
    case 'nest-socketio-unsliced':
      return (await import('./nest-socketio.js')).startNestSocketIO(config, false, undefined, {
        broadcastSlicing: false,
      });
    case 'nest-socketio-guarded':
      return (await import('./nest-socketio.js')).startNestSocketIO(config, true);
    case 'nest-socketio-otel':
    case 'nest-socketio-otel-metrics':
    case 'nest-socketio-otel-traces': {
      // Registered before the app exists, as an instrumentation file loaded with --import is.
      const parts = config.kind.endsWith('-metrics')
        ? { metrics: true, traces: false }
        : config.kind.endsWith('-traces')
          ? { metrics: false, traces: true }
          : { metrics: true, traces: true };
      (await import('./otel-sdk.js')).registerBenchSdk(parts);
      return (await import('./nest-socketio.js')).startNestSocketIO(config, false);
    }
    case 'nest-socketio-base': {
      const base = process.env.BENCH_BASE_LIB;
      if (!base) throw new Error('nest-socketio-base needs BENCH_BASE_LIB (a compiled index.js)');
      const lib = await import(pathToFileURL(base).href);
      return (await import('./nest-socketio.js')).startNestSocketIO(config, false, lib);
    }
  }
}

function settle(): void {
  // Run with --expose-gc: a few full collections so the heap holds only what is alive.
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
}

const config = JSON.parse(process.argv[2]) as ServerConfig;
const server = await start(config);
let cpuMark = process.cpuUsage();
/** The event-loop delay of the large emit under way (1 ms resolution: the longest block). */
let loop: IntervalHistogram | undefined;

serveCommands<ServerCommand>(async (command) => {
  switch (command.cmd) {
    case 'mark':
      settle();
      cpuMark = process.cpuUsage();
      return;
    case 'measure': {
      const cpu = process.cpuUsage(cpuMark);
      const { rss, heapUsed } = process.memoryUsage();
      return { cpuUs: cpu.user + cpu.system, rss, heapUsed };
    }
    case 'memory': {
      settle();
      const { rss, heapUsed } = process.memoryUsage();
      return { cpuUs: 0, rss, heapUsed };
    }
    case 'broadcast': {
      const { count, room, paceMs } = command;
      for (let i = 0; i < count; i++) {
        server.broadcast(TICK, tickPayload(i), room);
        if (paceMs !== undefined) {
          // Paced: each broadcast leaves before the next, so a backlog never batches writes.
          await new Promise((resolve) => setTimeout(resolve, paceMs));
        } else if (i % 8 === 7) {
          // Let the event loop flush writes, as a server emitting from timers or requests would.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      return;
    }
    case 'bigEmit': {
      loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      const startedAt = sharedNow();
      server.emitVia(command.via, TICK, tickPayload(0));
      return { startedAt, syncMs: sharedNow() - startedAt };
    }
    case 'loopBlock': {
      loop?.disable();
      // The histogram counts delays past its 1 ms period, in nanoseconds.
      const blockMs = loop && loop.count > 0 ? loop.max / 1e6 : 0;
      loop = undefined;
      return { blockMs };
    }
    case 'close':
      await server.close();
      setImmediate(() => process.exit(0));
      return;
  }
});
process.send!({ id: 0, ready: true, port: server.port });

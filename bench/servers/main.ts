import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { ServerCommand, ServerConfig } from '../protocol.js';
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
      // Nest's IoAdapter builds its own server: only the env-driven helpers apply to it.
      if (config.engine === 'eiows') throw new Error('nest-gateway runs on ws only');
      return (await import('./nest-gateway.js')).startNestGateway(config);
    case 'nest-socketio':
      return (await import('./nest-socketio.js')).startNestSocketIO(config, false);
    case 'nest-socketio-unsliced':
      return (await import('./nest-socketio.js')).startNestSocketIO(config, false, undefined, {
        options: { broadcastSlicing: false },
      });
    case 'nest-socketio-guarded':
      return (await import('./nest-socketio.js')).startNestSocketIO(config, true);
    case 'nest-socketio-pipe':
      return (await import('./nest-socketio.js')).startNestSocketIO(config, false, undefined, {
        enhancement: 'pipe',
      });
    case 'nest-socketio-enhanced':
    case 'nest-socketio-enhanced-nest':
      // `-nest`: the same app on Nest's own chain (directDispatch: false), the path before.
      return (await import('./nest-socketio.js')).startNestSocketIO(config, false, undefined, {
        enhancement: 'full',
        directDispatch: !config.kind.endsWith('-nest'),
      });
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
    case 'raw-otel':
      (await import('./otel-sdk.js')).registerBenchSdk();
      return (await import('./raw-otel.js')).startRawOtel(config);
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
if (config.engine !== 'bufferutil') {
  // Read by ws when it is first loaded (below, with the server): the native helpers stay off
  // unless this server is the one run on them, even when they are installed.
  process.env.WS_NO_BUFFER_UTIL = '1';
  process.env.WS_NO_UTF_8_VALIDATE = '1';
}
const server = await start(config);
if (config.engine === 'bufferutil') {
  // ws swallows a failed require of its helpers: make sure this server really runs on them.
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  if (!loaded.some((path) => path.includes('/node_modules/bufferutil/'))) {
    throw new Error('engine bufferutil: npm install --no-save bufferutil utf-8-validate first');
  }
}
let cpuMark = process.cpuUsage();
/**
 * The longest event-loop block while a large emit is under way: the longest gap between two
 * ticks of a 1 ms timer chain started just before the emit (so the emit's own synchronous part
 * counts; node's monitorEventLoopDelay drops its first interval, which is that part), in wall
 * time and in this process's CPU time (on a loaded machine the wall time also holds the time
 * the process waited for a core).
 */
function loopProbe() {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let wall = 0;
  let cpu = 0;
  const sample = () => {
    const now = performance.now();
    const used = process.cpuUsage(lastCpu);
    wall = Math.max(wall, now - last);
    cpu = Math.max(cpu, (used.user + used.system) / 1000);
    last = now;
    lastCpu = process.cpuUsage();
  };
  let timer = setTimeout(function tick() {
    sample();
    timer = setTimeout(tick, 1);
  }, 1);
  return () => {
    clearTimeout(timer);
    sample();
    return { blockMs: wall, blockCpuMs: cpu };
  };
}
let stopProbe: (() => { blockMs: number; blockCpuMs: number }) | undefined;

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
      stopProbe = loopProbe();
      const startedAt = sharedNow();
      server.emitVia(command.via, TICK, tickPayload(0));
      return { startedAt, syncMs: sharedNow() - startedAt };
    }
    case 'loopBlock': {
      const block = stopProbe?.() ?? { blockMs: 0, blockCpuMs: 0 };
      stopProbe = undefined;
      return block;
    }
    case 'close':
      await server.close();
      setImmediate(() => process.exit(0));
      return;
  }
});
process.send!({ id: 0, ready: true, port: server.port });

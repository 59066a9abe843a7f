// Soak test (not in CI): 1,000 socket.io clients with mixed traffic against one app process for
// two minutes; reports throughput, latency percentiles and the server's memory growth.
//   npm run build && node scripts/soak.mjs
// Environment: SOAK_CLIENTS (1000), SOAK_SECONDS (120), SOAK_MAX_GROWTH (0.10).
import { fork } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 1000);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const MAX_GROWTH = Number(process.env.SOAK_MAX_GROWTH ?? 0.1);
const WARMUP_SECONDS = Math.min(15, SECONDS / 4);

if (process.argv[2] === 'server') await server();
else await driver();

/** The app: plain JavaScript against the built package, decorators applied by hand. */
async function server() {
  await import('reflect-metadata');
  const { Inject, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } =
    await import('@nestjs/websockets');
  const { SocketIOModule, SocketService } = await import('../dist/index.js');

  class SoakGateway {
    constructor(sockets) {
      this.sockets = sockets;
    }
    echo(data) {
      return data;
    }
    async join(socket, room) {
      await socket.join(room);
      return true;
    }
    chat(body) {
      this.sockets.emit('chat', body.text, { to: body.room });
      return 'ok';
    }
  }
  const method = (name, ...decorators) => {
    const descriptor = Object.getOwnPropertyDescriptor(SoakGateway.prototype, name);
    for (const d of decorators) d(SoakGateway.prototype, name, descriptor);
  };
  method('echo', SubscribeMessage('echo'));
  MessageBody()(SoakGateway.prototype, 'echo', 0);
  method('join', SubscribeMessage('join'));
  ConnectedSocket()(SoakGateway.prototype, 'join', 0);
  MessageBody()(SoakGateway.prototype, 'join', 1);
  method('chat', SubscribeMessage('chat'));
  MessageBody()(SoakGateway.prototype, 'chat', 0);
  Inject(SocketService)(SoakGateway, undefined, 0);
  WebSocketGateway()(SoakGateway);

  // oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a class by design
  class SoakModule {}
  Module({ imports: [SocketIOModule.forRoot({ logger: false })], providers: [SoakGateway] })(
    SoakModule,
  );

  const app = await NestFactory.create(SoakModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const sockets = app.get(SocketService);
  let ticks = 0;
  let ticker;
  const heap = () => {
    for (let i = 0; i < 3; i++) globalThis.gc();
    const { heapUsed, rss } = process.memoryUsage();
    return { heapUsed, rss, clients: sockets.server.engine.clientsCount };
  };
  process.on('message', async (m) => {
    if (m === 'memory') process.send({ memory: heap() });
    if (m === 'tick-start') ticker = setInterval(() => sockets.emit('tick', ++ticks), 1000);
    if (m === 'tick-stop') clearInterval(ticker);
    if (m === 'close') {
      await app.close();
      process.disconnect();
    }
  });
  process.send({ url: (await app.getUrl()).replace('[::1]', '127.0.0.1') });
}

async function driver() {
  const { io } = await import('socket.io-client');
  const child = fork(fileURLToPath(import.meta.url), ['server'], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = (message, key) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m && key in m) {
          child.off('message', on);
          resolve(m[key]);
        }
      };
      child.on('message', on);
      if (message) child.send(message);
    });
  const url = await ask(undefined, 'url');
  console.log(`soak: ${CLIENTS} clients, ${SECONDS} s, server ${url} (pid ${child.pid})`);

  const open = () =>
    new Promise((resolve, reject) => {
      const s = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
  const clients = [];
  for (let i = 0; i < CLIENTS; i += 100) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(100, CLIENTS - i) }, open))));
  }
  const rooms = 20;
  await Promise.all(clients.map((s, i) => s.emitWithAck('join', `room-${i % rooms}`)));

  const stats = { acks: 0, errors: 0, chats: 0, ticks: 0, churn: 0, latencies: [] };
  const listen = (s) => {
    s.on('chat', () => stats.chats++);
    s.on('tick', () => stats.ticks++);
  };
  clients.forEach(listen);

  const phase = { measuring: false, running: true };
  // Each client: an echo with a random payload about once a second, now and then a room chat.
  const traffic = clients.map(async (_, i) => {
    await delay(Math.random() * 1000);
    while (phase.running) {
      const s = clients[i];
      const payload = { n: Math.random(), text: 'x'.repeat(Math.floor(Math.random() * 200)) };
      const started = performance.now();
      try {
        if (Math.random() < 0.05) {
          await s.timeout(10_000).emitWithAck('chat', { room: `room-${i % rooms}`, text: 'hi' });
        } else {
          const reply = await s.timeout(10_000).emitWithAck('echo', payload);
          if (reply.n !== payload.n) throw new Error('wrong echo');
        }
        if (phase.measuring) {
          stats.acks++;
          stats.latencies.push(performance.now() - started);
        }
      } catch {
        if (phase.measuring) stats.errors++;
      }
      // Churn: about one client in a thousand per second leaves and a new one takes its place.
      if (Math.random() < 0.001) {
        s.disconnect();
        const fresh = await open();
        await fresh.emitWithAck('join', `room-${i % rooms}`);
        listen(fresh);
        clients[i] = fresh;
        stats.churn++;
      }
      await delay(800 + Math.random() * 400);
    }
  });

  child.send('tick-start');
  await delay(WARMUP_SECONDS * 1000);
  const baseline = await ask('memory', 'memory');
  phase.measuring = true;
  const started = Date.now();
  const samples = [];
  while (Date.now() - started < (SECONDS - WARMUP_SECONDS) * 1000) {
    await delay(10_000);
    samples.push(await ask('memory', 'memory'));
    const last = samples.at(-1);
    console.log(
      `  ${Math.round((Date.now() - started) / 1000)} s: ${stats.acks} acks, heap ${mb(last.heapUsed)}, ` +
        `rss ${mb(last.rss)}, ${last.clients} clients`,
    );
  }
  phase.measuring = false;
  const elapsed = (Date.now() - started) / 1000;
  phase.running = false;
  child.send('tick-stop');
  await Promise.all(traffic);
  const end = await ask('memory', 'memory');

  const sorted = stats.latencies.toSorted((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
  const growth = (end.heapUsed - baseline.heapUsed) / baseline.heapUsed;
  const report = {
    clients: CLIENTS,
    seconds: Math.round(elapsed),
    requestsPerSecond: Math.round(stats.acks / elapsed),
    messagesDeliveredPerSecond: Math.round((stats.acks + stats.chats + stats.ticks) / elapsed),
    errors: stats.errors,
    churned: stats.churn,
    latencyMs: { p50: round(pct(50)), p99: round(pct(99)), max: round(sorted.at(-1)) },
    heapMB: { baseline: mb(baseline.heapUsed), end: mb(end.heapUsed) },
    rssMB: { baseline: mb(baseline.rss), end: mb(end.rss) },
    heapGrowth: `${(growth * 100).toFixed(1)}%`,
  };
  console.log(JSON.stringify(report, null, 2));

  for (const s of clients) s.disconnect();
  child.send('close');
  await new Promise((resolve) => child.once('exit', resolve));
  const ok = growth < MAX_GROWTH && stats.errors === 0;
  console.log(
    ok ? 'soak: PASS' : `soak: FAIL (growth must stay under ${MAX_GROWTH * 100}%, no errors)`,
  );
  process.exitCode = ok ? 0 : 1;
}

function mb(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

function round(ms) {
  return Math.round(ms * 10) / 10;
}

// Presence benchmark (`npm run bench:presence`): what PresenceService costs on the server, next
// to a plain room emit of the same payload, measured in one run on this machine.
// Options: --clients N (room size, default 2000), --big N (clients for the heartbeat check,
// default 10000), --rounds N (diffs per fan-out measure, default 200).
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { io, type Socket } from 'socket.io-client';
import { ChildProcessDriver } from '../test/support/child-process.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const CLIENTS = option('clients', 2000);
const BIG = option('big', 10_000);
const ROUNDS = option('rounds', 200);
const HEARTBEAT_WINDOW_MS = 15_000; // three default heartbeat intervals

const channel = `bench-presence-${randomUUID().slice(0, 8)}`;
const server = ChildProcessDriver.fork(
  'presence-server',
  fileURLToPath(new URL('./presence-server.js', import.meta.url)),
  { args: [JSON.stringify({ redisUrl: REDIS_URL, channel })], execArgv: ['--expose-gc'] },
  300_000,
);
const { url } = (await server.waitFor((m) => typeof m.url === 'string')) as unknown as {
  url: string;
};

const clients: Socket[] = [];
let diffs = 0;
let lastDiff: unknown;
async function connectClients(total: number): Promise<void> {
  while (clients.length < total) {
    const batch = Array.from({ length: Math.min(200, total - clients.length) }, () => {
      const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
      socket.on('presence_diff', (diff: unknown) => {
        diffs++;
        lastDiff = diff;
      });
      // Plain emits of the same payload arrive under the same name, counted the same way.
      clients.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
    });
    await Promise.all(batch);
  }
}

async function until(what: string, done: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function ask<T>(command: Record<string, unknown> & { cmd: string }): Promise<T> {
  return (await server.request(command)) as unknown as T;
}
const heap = async () => (await ask<{ heapUsed: number }>({ cmd: 'heap' })).heapUsed;

// Connected before the load starts: a busy event loop later would time the connection out.
const sub = createClient({ url: REDIS_URL });
await sub.connect();
let heard = { messages: 0, bytes: 0, other: 0 };
await sub.pSubscribe(`${channel}-request#*`, (message: string) => {
  if (!message.includes('nest-socketio:presence')) return;
  // Heartbeats only: a client dropped by the loaded machine would add its leave delta.
  if (!message.includes('"t":"hb"')) {
    heard.other++;
    return;
  }
  heard.messages++;
  heard.bytes += Buffer.byteLength(message);
});

/** Presence messages and bytes one idle process publishes per second, heard on the Redis channel. */
async function presenceTraffic(): Promise<{
  heartbeatsPerSec: number;
  heartbeatBytesPerSec: number;
  otherPresenceMessages: number;
  connected: number;
}> {
  // Let the deliveries of the last change go out first.
  await new Promise((r) => setTimeout(r, 2000));
  heard = { messages: 0, bytes: 0, other: 0 };
  await new Promise((r) => setTimeout(r, HEARTBEAT_WINDOW_MS));
  const s = HEARTBEAT_WINDOW_MS / 1000;
  return {
    heartbeatsPerSec: heard.messages / s,
    heartbeatBytesPerSec: heard.bytes / s,
    otherPresenceMessages: heard.other,
    connected: clients.filter((c) => c.connected).length,
  };
}

console.log(
  `presence bench: ${CLIENTS} clients in one topic, ${BIG} for heartbeats, ${ROUNDS} rounds`,
);
await connectClients(CLIENTS);
const heapConnected = await heap();

// track: all clients at once in one topic (one delivery), then one at a time (each its own).
const burst = await ask<{ cpuUs: number }>({ cmd: 'trackAll', topic: 'lobby' });
await until('every state', () => true);
const heapTracked = await heap();
const sequential = await ask<{ cpuUs: number }>({
  cmd: 'trackAll',
  topic: 'solo',
  sequential: true,
});

// One diff fan-out (an update: a leave and a join of one meta) to the whole room, ROUNDS times.
diffs = 0;
const churn = await ask<{
  cpuUs: number;
  connected: number;
}>({ cmd: 'churn', topic: 'lobby', count: ROUNDS });
if (churn.connected !== CLIENTS) throw new Error(`${CLIENTS - churn.connected} clients dropped`);
// The churner's own join (to the others) first, then every update to everyone.
await until('every diff', () => diffs >= CLIENTS - 1 + ROUNDS * CLIENTS);
const payload = lastDiff;
diffs = 0;
const plain = await ask<{
  cpuUs: number;
}>({ cmd: 'plain', topic: 'lobby', count: ROUNDS, payload });
await until('every plain emit', () => diffs >= ROUNDS * CLIENTS);
const deliveries = ROUNDS * CLIENTS;

const trafficSmall = await presenceTraffic();
await connectClients(BIG);
// A topic each: a newcomer's state in one topic of 10,000 would be 10,000 entries per client.
await ask({ cmd: 'trackAll', topic: 'spread', from: CLIENTS, spread: true });
const trafficBig = await presenceTraffic();

const results = {
  at: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, shared and loaded: compare ratios within this run`,
  clients: CLIENTS,
  rounds: ROUNDS,
  trackUsPerClientBurst: burst.cpuUs / CLIENTS,
  trackUsPerClientOneByOne: sequential.cpuUs / CLIENTS,
  diffFanoutUs: churn.cpuUs / ROUNDS,
  diffUsPerDelivery: churn.cpuUs / deliveries,
  plainEmitUsPerDelivery: plain.cpuUs / deliveries,
  diffVsPlainEmit: churn.cpuUs / plain.cpuUs,
  heapBytesPerTrackedClient: (heapTracked - heapConnected) / CLIENTS,
  heartbeat: {
    [`${CLIENTS} tracked`]: trafficSmall,
    [`${BIG} tracked`]: trafficBig,
  },
};
console.log(JSON.stringify(results, null, 2));
const out = fileURLToPath(
  new URL(`../../bench/results/presence-${results.at.replace(/[:.]/g, '-')}.json`, import.meta.url),
);
mkdirSync(fileURLToPath(new URL('../../bench/results/', import.meta.url)), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
console.log(`written to ${out}`);
for (const socket of clients) socket.disconnect();
await sub.close();
await server.stop({ cmd: 'close' });
process.exit(0);

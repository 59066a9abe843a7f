import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as delay } from 'node:timers/promises';
import type { Server } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService } from 'nest-socketio';
import type { INestApplication } from '@nestjs/common';
import { closeClients, connect, startApp } from '../../support/app.js';
import { ReliabilityGateway } from '../../support/reliability-fixtures.js';
import {
  fuzzPolling,
  fuzzWebsocket,
  prng,
  type FuzzStats,
} from '../../support/reliability-fuzz.js';

// FUZZ_SEED reproduces a failing run; FUZZ_PACKETS and FUZZ_SECONDS scale it.
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const PACKETS = Number(process.env.FUZZ_PACKETS ?? 100_000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 45);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await delay(20);
  }
  return process.memoryUsage().heapUsed;
}

describe('fuzz: malformed Engine.IO and Socket.IO packets', () => {
  let app: INestApplication;
  let url: string;
  let server: Server;
  const crashes: unknown[] = [];
  const onCrash = (err: unknown) => crashes.push(err);

  beforeAll(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot({ logger: false, pingInterval: 2000, pingTimeout: 2000 })],
      providers: [ReliabilityGateway],
    }));
    server = app.get(SocketService).server;
  });

  afterAll(async () => {
    closeClients();
    await app?.close();
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  });

  it(`survives ${PACKETS} fuzzed packets (seed ${SEED}) while good clients keep their acks`, async () => {
    const good = await Promise.all([
      ...Array.from({ length: 3 }, () => connect(url)),
      ...Array.from({ length: 3 }, () => connect(url, { transports: ['polling'] })),
    ]);
    // Warm up the paths the fuzzer will take, so the baseline includes their one-time costs.
    const warm: FuzzStats = { sent: 0, control: 0, connections: 0, unanswered: [], leaks: [] };
    await Promise.all([
      fuzzWebsocket(url, prng(1), 1000, Date.now() + 5000, warm),
      fuzzPolling(url, prng(2), 1000, Date.now() + 5000, warm),
    ]);
    await waitForClients(server, good.length);
    const baseline = await heapAfterGc();

    // What the server really read (the fuzzer may write into a connection the server just closed).
    let received = 0;
    const count = (engineSocket: { on(e: string, l: () => void): void }) =>
      engineSocket.on('packet', () => received++);
    server.engine.on('connection', count);
    const deadline = Date.now() + SECONDS * 1000;
    const stats: FuzzStats = { sent: 0, control: 0, connections: 0, unanswered: [], leaks: [] };
    const random = prng(SEED);
    const run = { fuzzing: true };
    let acks = 0;
    const wrong: unknown[] = [];
    const goodTraffic = Promise.all(
      good.map(async (c, i) => {
        for (let n = 0; run.fuzzing; n++) {
          const payload = { client: i, n, text: 'ok'.repeat(n % 7) };
          const reply = await c.timeout(5000).emitWithAck('echo', payload);
          if (JSON.stringify(reply) === JSON.stringify(payload)) acks++;
          else wrong.push(reply);
          await delay(20);
        }
      }),
    );
    const seeds = Array.from({ length: 10 }, () => Math.floor(random() * 2 ** 32));
    const started = Date.now();
    await Promise.all([
      ...seeds.slice(0, 6).map((s) => fuzzWebsocket(url, prng(s), PACKETS * 0.1, deadline, stats)),
      ...seeds.slice(6).map((s) => fuzzPolling(url, prng(s), PACKETS * 0.1, deadline, stats)),
    ]);
    const elapsed = Date.now() - started;
    run.fuzzing = false;
    await goodTraffic;
    server.engine.off('connection', count);

    // The server is still up: every good client got its own payload back, a new one connects.
    expect(wrong).toEqual([]);
    expect(acks).toBeGreaterThan(50);
    for (const c of good) expect(c.connected).toBe(true);
    const late = await connect(url);
    expect(await late.emitWithAck('echo', 'after the storm')).toBe('after the storm');
    expect(crashes).toEqual([]);
    expect(stats.unanswered).toEqual([]);
    // Whatever the server answered (errors included), it showed no internals.
    expect(stats.leaks).toEqual([]);
    expect(stats.sent).toBeGreaterThanOrEqual(PACKETS);
    expect(received - stats.control).toBeGreaterThanOrEqual(PACKETS * 0.9);

    // Memory returns near its baseline once the fuzzers' connections are gone.
    late.disconnect();
    await waitForClients(server, good.length);
    const after = await heapAfterGc();
    const growth = (after - baseline) / baseline;
    console.log(
      `fuzz: seed ${SEED}, ${stats.sent} packets sent (${received - stats.control} read by the server) over ${stats.connections} connections in ${elapsed} ms, ` +
        `${acks} good acks, heap ${(baseline / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MB ` +
        `(${(growth * 100).toFixed(1)}%)`,
    );
    expect(after - baseline).toBeLessThan(Math.max(baseline * 0.1, 8 * 2 ** 20));
  }, 120_000);
});

/** Waits until the engine serves exactly `count` clients (fuzzers' sessions time out on their own). */
async function waitForClients(server: Server, count: number): Promise<void> {
  const until = Date.now() + 15_000;
  while (server.engine.clientsCount !== count) {
    if (Date.now() > until) {
      throw new Error(`${server.engine.clientsCount} engine clients, expected ${count}`);
    }
    await delay(50);
  }
}

import { createClient } from 'redis';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, closeClients, connect } from '../../support/app.js';
import { removeBuilds } from '../../support/build-fixture.js';
import { freePort, OwnRedis } from '../../support/services.js';
import { killAppProcesses, startAppProcess } from '../../support/reliability-process.js';

const CLIENTS = 1000;
const SLOW_MS = 1500;

describe('graceful shutdown on SIGTERM (enableShutdownHooks)', () => {
  let redis: OwnRedis;
  let redisClient: ReturnType<typeof createClient>;

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    redisClient = createClient({ url: redis.url });
    await redisClient.connect();
  });

  afterAll(async () => {
    closeClients();
    await killAppProcesses();
    await redisClient?.quit();
    await redis?.stop();
    await removeBuilds();
  });

  /** Connections to our Redis other than this test's own. */
  async function redisConnections(): Promise<number> {
    const list = String(await redisClient.sendCommand(['CLIENT', 'LIST']));
    return list.trim().split('\n').length - 1;
  }

  it(`with ${CLIENTS} clients: refuses newcomers, finishes handlers, disconnects, exits in 5 s`, async () => {
    const app = await startAppProcess({ messageQueue: redis.url });
    expect(await redisConnections()).toBeGreaterThan(0);

    const clients: ClientSocket[] = [];
    const reasons: Promise<string>[] = [];
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => connect(app.url)));
      for (const c of batch) {
        clients.push(c);
        reasons.push(new Promise((resolve) => c.once('disconnect', resolve)));
      }
    }
    expect(await app.request('clients')).toBe(CLIENTS);
    await app.request('startTask');
    await app.waitForLog('task started');

    // Handlers in flight when the signal comes.
    let answered = 0;
    const acks = clients.slice(0, 20).map(async (c) => {
      const reply = await c.emitWithAck('slow', SLOW_MS);
      answered++;
      return reply;
    });
    while ((await app.request<number>('inFlight')) < 20)
      await new Promise((r) => setTimeout(r, 10));

    const signalled = Date.now();
    app.child.kill('SIGTERM');

    // Newcomers are refused while those handlers are still running.
    let refusedAt = 0;
    while (!refusedAt) {
      const newcomer = client(app.url);
      const outcome = await new Promise<string>((resolve) => {
        newcomer.once('connect', () => resolve('connected'));
        newcomer.once('connect_error', () => resolve('refused'));
      });
      newcomer.disconnect();
      if (outcome === 'refused') refusedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 20));
      expect(Date.now() - signalled).toBeLessThan(SLOW_MS);
    }
    expect(answered).toBe(0);

    // The handlers finish and their acks arrive; then every client is told it is disconnected.
    expect(await Promise.all(acks)).toEqual(Array.from({ length: 20 }, () => ({ done: SLOW_MS })));
    const seen = await Promise.all(reasons);
    expect(new Set(seen)).toEqual(new Set(['transport close']));

    // The process ends by itself (no process.exit, no signal left pending) within 5 s.
    const exit = await app.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - signalled).toBeLessThan(5000);
    console.log(
      `shutdown: newcomers refused after ${refusedAt - signalled} ms, exit after ${exit.at - signalled} ms`,
    );
    expect(app.resources).toEqual([]);
    // The background task was aborted and its cleanup awaited; Redis connections are closed.
    expect(app.logs).toContain('task finished');
    expect(await redisConnections()).toBe(0);
    expect(app.problems).toEqual([]);
  }, 60_000);
});

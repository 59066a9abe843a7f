import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, closeClients, connect, next } from '../../support/app.js';
import { removeBuilds } from '../../support/build-fixture.js';
import { startNode, stopNodes, type QueueNode } from '../../support/queue-cluster.js';
import { freePort, OwnRedis } from '../../support/services.js';

afterAll(() => removeBuilds());

// Two app processes on one Redis (a server of the test's own, so it can be stopped), with the
// rate limit counted in it: one budget per address, whichever process the client reaches.
describe("rateLimit with store: 'messageQueue'", () => {
  let redis: OwnRedis;
  let a: QueueNode, b: QueueNode;

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    const options = {
      messageQueue: redis.url,
      channel: `rate-${randomUUID().slice(0, 8)}`,
      rateLimit: { points: 3, duration: 600_000, store: 'messageQueue' as const },
    };
    [a, b] = await Promise.all([startNode('A', options), startNode('B', options)]);
  }, 120_000);
  afterAll(async () => {
    closeClients();
    await stopNodes();
    await redis.stop();
  });

  it('still limits a client that reconnects to the other process', async () => {
    const c = await connect(a.url); // 1 point: the connection attempt
    expect(await c.emitWithAck('echo', 1)).toEqual({ from: 'A', data: 1 }); // 2
    expect(await c.emitWithAck('echo', 2)).toEqual({ from: 'A', data: 2 }); // 3
    c.disconnect();
    // B has seen nothing of this client, yet its budget is spent.
    const again = client(b.url);
    expect((await next<Error>(again, 'connect_error')).message).toBe('Too Many Requests');
  });

  it('counts in each process, logged once, while the Redis is down', async () => {
    await redis.stop();
    await expect
      .poll(() => a.logs.filter((l) => /^Rate limit: .* cannot be reached/.test(l.message)))
      .toHaveLength(1);
    // A's own count starts empty: three points, then 429.
    const c = await connect(a.url);
    expect(await c.emitWithAck('echo', 1)).toEqual({ from: 'A', data: 1 });
    expect(await c.emitWithAck('echo', 2)).toEqual({ from: 'A', data: 2 });
    expect(await c.emitWithAck('echo', 3)).toEqual({
      error: { status: 429, message: 'Too Many Requests' },
    });
    const warnings = a.logs.filter((l) => l.message.startsWith('Rate limit:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].level).toBe('warn');
    expect(a.problems).toEqual([]);
  });
});

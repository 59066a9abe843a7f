import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { closeClients, connect } from '../../support/app.js';
import { removeBuilds } from '../../support/build-fixture.js';
import { startNode, stopNodes } from '../../support/queue-cluster.js';
import { REDIS_URL, requireService } from '../../support/services.js';
import { RoundRobinProxy } from '../../support/reliability-proxy.js';

// On localhost, a cross-process room change reaches the other process before any test can
// look: here the link from Redis to one process is slowed down, so a joinRoom that resolved
// before the change is in effect there would be seen.
describe('a process whose link to Redis is slow', () => {
  let proxy: RoundRobinProxy | undefined;
  afterAll(async () => {
    closeClients();
    await stopNodes();
    await proxy?.stop();
    await removeBuilds();
  });

  it('joinRoom from another process resolves only once the join is in effect there', async () => {
    await requireService('Redis', 6379);
    proxy = new RoundRobinProxy([{ port: 6379 }], 300);
    await proxy.start();
    const channel = `slow-link-${randomUUID()}`;
    const [a, b] = await Promise.all([
      startNode('A', { messageQueue: REDIS_URL, channel }),
      startNode('B', { messageQueue: proxy.url.replace('http:', 'redis:'), channel }),
    ]);
    const onB = await connect(b.url);
    for (const room of ['r1', 'r2', 'r3']) {
      await a.request('joinRoom', room, { sid: onB.id });
      // Asked of B directly (not through Redis): what B itself has at this moment.
      expect(await onB.emitWithAck('local-rooms')).toContain(room);
    }
    await a.request('leaveRoom', 'r2', { sid: onB.id });
    expect(await onB.emitWithAck('local-rooms')).not.toContain('r2');
  });
});

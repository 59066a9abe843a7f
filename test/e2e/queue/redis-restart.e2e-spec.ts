import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import { closeClients, connect, next } from '../../support/app.js';
import { removeBuilds } from '../../support/build-fixture.js';
import {
  deliveredEventually,
  startNode,
  stopNodes,
  waitForServers,
  type QueueNode,
} from '../../support/queue-cluster.js';
import { OwnRedis, freePort } from '../../support/services.js';

/** Polls a condition (a log line, a delivery) until it holds. */
async function eventually<T>(
  what: string,
  attempt: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A Redis server of the test's own is stopped and started again while two processes run.
describe.each(['redis', 'redis-streams'] as const)(
  'message queue (%s): losing Redis while running',
  (type) => {
    let redis: OwnRedis;
    let x: QueueNode, y: QueueNode;
    let onX: ClientSocket, onY: ClientSocket;

    beforeAll(async () => {
      redis = new OwnRedis(await freePort());
      await redis.start();
      [x, y] = await Promise.all(
        ['X', 'Y'].map((label) =>
          startNode(label, {
            messageQueue: { type, url: redis.url, adapterOptions: { heartbeatInterval: 300 } },
            channel: 'restart',
          }),
        ),
      );
      await waitForServers([x, y], 2);
      [onX, onY] = await Promise.all([connect(x.url), connect(y.url)]);
    });
    afterAll(async () => {
      closeClients();
      await stopNodes();
      await redis?.stop();
      await removeBuilds();
    });

    it('keeps local clients served, logs the loss, and resumes delivery when Redis returns', async () => {
      await deliveredEventually(y, onX);

      await redis.stop();
      for (const node of [x, y]) {
        const line = await eventually('the loss to be logged', () =>
          node.logs.find((l) => l.level === 'error' && l.message.includes('lost the connection')),
        );
        expect(line.message).toContain(`Redis at 127.0.0.1:${redis.port}`);
        expect(line.message).toContain('Local clients are still served');
      }
      // Local clients are still served: handlers answer, and a process still reaches its own clients.
      expect(await onX.timeout(5000).emitWithAck('echo', 'still here')).toEqual({
        from: 'X',
        data: 'still here',
      });
      const local = next(onY, 'local');
      await y.request('emit', 'local', 'during the outage');
      expect(await local).toBe('during the outage');
      const direct = next(onX, 'direct');
      await x.request('emit', 'direct', 'to my own client', { to: onX.id });
      expect(await direct).toBe('to my own client');

      await redis.start();
      await deliveredEventually(y, onX);
      await deliveredEventually(x, onY);
      for (const node of [x, y]) {
        await eventually('the reconnection to be logged', () =>
          node.logs.find((l) =>
            l.message.includes(`connected to Redis at 127.0.0.1:${redis.port} again`),
          ),
        );
      }
      // Room helpers work across processes again.
      await x.request('joinRoom', 'after', { sid: onY.id });
      const inRoom = next(onY, 'room');
      await x.request('emit', 'room', 'back', { to: 'after' });
      expect(await inRoom).toBe('back');

      for (const node of [x, y]) {
        expect(node.alive).toBe(true);
        expect(node.problems).toEqual([]);
      }
    });
  },
);

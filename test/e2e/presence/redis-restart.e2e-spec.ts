// Presence through a Redis outage: a Redis of the test's own is stopped while two processes
// track clients, and started again; every list converges to the same state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceState } from 'nest-socketio';
import { closeClients, connect } from '../../support/app.js';
import { startNode, stopNodes, type QueueNode } from '../../support/queue-cluster.js';
import { freePort, OwnRedis } from '../../support/services.js';
import { removeBuilds } from '../../support/build-fixture.js';
import { PresenceView, summary } from '../../support/presence.js';

const PRESENCE = { heartbeatInterval: 250, timeout: 2000 };

async function tracked(node: QueueNode, key: string) {
  const socket = await connect(node.url);
  const view = new PresenceView(socket);
  expect(await socket.emitWithAck('presence:track', { topic: 'lobby', key })).toBe('tracked');
  await view.until('its state', () => view.states === 1);
  return { socket, view, sid: socket.id! };
}

async function converged(nodes: QueueNode[], expected: Record<string, string[]>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const views = (
      await Promise.all(nodes.map((n) => n.request<PresenceState>('presence', 'list', 'lobby')))
    ).map(summary);
    if (views.every((v) => JSON.stringify(v) === JSON.stringify(expected))) return;
    if (Date.now() > deadline) expect(views).toEqual(nodes.map(() => expected));
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(['redis', 'redis-streams'] as const)(
  'presence through a Redis outage (%s)',
  (type) => {
    let redis: OwnRedis;
    let x: QueueNode, y: QueueNode;

    beforeAll(async () => {
      redis = new OwnRedis(await freePort());
      await redis.start();
      [x, y] = await Promise.all(
        ['X', 'Y'].map((label) =>
          startNode(label, {
            messageQueue: { type, url: redis.url, adapterOptions: { heartbeatInterval: 300 } },
            channel: 'presence-restart',
            presence: PRESENCE,
          }),
        ),
      );
    });
    afterAll(async () => {
      closeClients();
      await stopNodes();
      await redis?.stop();
      await removeBuilds();
    });

    it('each process keeps its own clients, drops the unreachable ones, and converges when Redis returns', async () => {
      const alice = await tracked(x, 'alice');
      const bob = await tracked(y, 'bob');
      await alice.view.until('bob', () => alice.view.present.includes('bob'));
      await converged([x, y], { alice: [alice.sid], bob: [bob.sid] });

      await redis.stop();
      // Without heartbeats each side gives the other up after the timeout, with a leave diff.
      await alice.view.until('bob given up', () => !alice.view.present.includes('bob'));
      await bob.view.until('alice given up', () => !bob.view.present.includes('alice'));
      // Local presence goes on during the outage.
      const carol = await tracked(x, 'carol');
      expect(carol.view.present).toEqual(['alice', 'carol']);
      await alice.view.until('carol (local)', () => alice.view.present.includes('carol'));
      expect(summary(await x.request<PresenceState>('presence', 'list', 'lobby'))).toEqual({
        alice: [alice.sid],
        carol: [carol.sid],
      });

      await redis.start();
      const all = { alice: [alice.sid], bob: [bob.sid], carol: [carol.sid] };
      await converged([x, y], all);
      for (const m of [alice, bob, carol]) {
        await m.view.until('everyone again', () => m.view.present.join() === 'alice,bob,carol');
      }
      // One leave per outage and one join back: nothing doubled on the way.
      expect(alice.view.leaves.get(`bob/${bob.sid}`)).toBe(1);
      expect(alice.view.joins.get(`bob/${bob.sid}`)).toBe(2);
      expect(bob.view.joins.get(`carol/${carol.sid}`)).toBe(1);
    });
  },
);

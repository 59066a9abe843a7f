// 1,000 clients tracked in one topic across three processes: every list() agrees, and every
// client received every join (and later every leave) exactly once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceState } from 'nest-socketio';
import { closeClients, connect } from '../../support/app.js';
import {
  startNode,
  stopNodes,
  waitForServers,
  type QueueNode,
} from '../../support/queue-cluster.js';
import { REDIS_URL, requireService } from '../../support/services.js';
import { removeBuilds } from '../../support/build-fixture.js';
import { PresenceView } from '../../support/presence.js';

const CLIENTS = 1000;

describe('presence: 1,000 clients in one topic across three processes', () => {
  let nodes: QueueNode[];

  beforeAll(async () => {
    await requireService('Redis', 6379);
    const options = {
      messageQueue: REDIS_URL,
      channel: `presence-1k-${randomUUID().slice(0, 8)}`,
      presence: { heartbeatInterval: 500, timeout: 5000 },
    };
    nodes = await Promise.all(['X', 'Y', 'Z'].map((label) => startNode(label, options)));
    await waitForServers(nodes, 3);
  });
  afterAll(async () => {
    closeClients();
    await stopNodes();
    await removeBuilds();
  });

  it('every list agrees and each client got every join and leave once', async () => {
    const members: {
      key: string;
      sid: string;
      view: PresenceView;
      socket: Awaited<ReturnType<typeof connect>>;
    }[] = [];
    for (let batch = 0; batch < CLIENTS; batch += 50) {
      const started = Array.from({ length: 50 }, async (_, i) => {
        const n = batch + i;
        const socket = await connect(nodes[n % 3].url);
        const view = new PresenceView(socket);
        const key = `user-${n}`;
        expect(await socket.emitWithAck('presence:track', { topic: 'big', key })).toBe('tracked');
        return { key, sid: socket.id!, view, socket };
      });
      members.push(...(await Promise.all(started)));
    }
    const expected = new Map(members.map((m) => [m.key, m.sid]));
    const complete = (view: PresenceView) =>
      view.keys.size === CLIENTS && members.every((m) => view.keys.get(m.key)?.has(m.sid));
    await Promise.all(
      members.map((m) => m.view.until(`all ${CLIENTS} keys`, () => complete(m.view), 60_000)),
    );

    for (const node of nodes) {
      const list = await node.request<PresenceState>('presence', 'list', 'big');
      expect(Object.keys(list).length).toBe(CLIENTS);
      for (const [key, { metas }] of Object.entries(list)) {
        expect(metas.map((m) => m.sid)).toEqual([expected.get(key)]);
      }
    }
    for (const m of members) {
      expect(m.view.states).toBe(1);
      // Since its state, each other client's join came once: none twice, none missing.
      const counts = [...m.view.joins.values()];
      expect(counts.length).toBe(CLIENTS);
      expect(counts.every((n) => n === 1)).toBe(true);
    }

    // A hundred leave (from all three processes): the others get each leave once.
    const leaving = members.filter((_, i) => i % 10 === 0);
    const staying = members.filter((_, i) => i % 10 !== 0);
    for (const m of leaving) m.socket.disconnect();
    await Promise.all(
      staying.map((m) =>
        m.view.until('900 keys', () => m.view.keys.size === CLIENTS - leaving.length, 60_000),
      ),
    );
    for (const m of staying) {
      expect(m.view.leaves.size).toBe(leaving.length);
      expect([...m.view.leaves.values()].every((n) => n === 1)).toBe(true);
      expect(leaving.every((l) => !m.view.keys.has(l.key))).toBe(true);
    }
    for (const node of nodes) {
      const list = await node.request<PresenceState>('presence', 'list', 'big');
      expect(Object.keys(list).length).toBe(CLIENTS - leaving.length);
    }
  });
});

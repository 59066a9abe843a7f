// PresenceService across real processes on every message-queue kind: replication, late start,
// cross-process tracking, disconnects, a SIGKILLed process, and an emitter-only worker.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import type { MessageQueueOptions, PresenceState } from 'nest-socketio';
import { closeClients, connect } from '../../support/app.js';
import {
  startNode,
  stopNodes,
  waitForServers,
  type QueueNode,
} from '../../support/queue-cluster.js';
import {
  AMQP_URL,
  holdLock,
  NATS_URL,
  POSTGRES_URL,
  REDIS_URL,
  requireService,
} from '../../support/services.js';
import { removeBuilds } from '../../support/build-fixture.js';
import { PresenceView, summary } from '../../support/presence.js';

const PRESENCE = { heartbeatInterval: 250, timeout: 2500 };

interface Member {
  socket: ClientSocket;
  view: PresenceView;
  sid: string;
}

async function member(node: QueueNode, topic: string, key: string): Promise<Member> {
  const socket = await connect(node.url);
  const view = new PresenceView(socket);
  expect(await socket.emitWithAck('presence:track', { topic, key, meta: { on: node.label } })).toBe(
    'tracked',
  );
  await view.until('its presence_state', () => view.states === 1);
  return { socket, view, sid: socket.id! };
}

/** Every node's list() of `topic`, once they all show `expected` (keys -> sids). */
async function listsAgree(
  nodes: QueueNode[],
  topic: string,
  expected: Record<string, string[]>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lists = await Promise.all(
      nodes.map((n) => n.request<PresenceState>('presence', 'list', topic)),
    );
    const views = lists.map(summary);
    if (views.every((v) => JSON.stringify(v) === JSON.stringify(expected))) return;
    if (Date.now() > deadline) expect(views).toEqual(nodes.map(() => expected));
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** No client received a join or a leave twice. */
function exactlyOnce(...members: Member[]): void {
  for (const m of members) {
    expect([...m.view.joins.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...m.view.leaves.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  }
}

const kinds: MessageQueueOptions['type'][] = [
  'redis',
  'redis-sharded',
  'redis-streams',
  'postgres',
  'amqp',
  'nats',
];

/** The broker each kind runs on: its URL, its service for the error message, and its port. */
function broker(type: MessageQueueOptions['type']) {
  if (type === 'postgres') return { url: POSTGRES_URL, service: 'PostgreSQL', port: 5432 } as const;
  if (type === 'amqp') return { url: AMQP_URL, service: 'RabbitMQ', port: 5672 } as const;
  if (type === 'nats') return { url: NATS_URL, service: 'NATS', port: 4222 } as const;
  return { url: REDIS_URL, service: 'Redis', port: 6379 } as const;
}

describe.each(kinds)('presence across processes (%s)', (type) => {
  const { url, service, port } = broker(type);
  const options = {
    messageQueue: {
      type,
      url,
      adapterOptions:
        type === 'redis-streams' || type === 'postgres' ? { heartbeatInterval: 500 } : {},
    },
    channel: `presence-${type}-${randomUUID().slice(0, 8)}`,
    presence: PRESENCE,
  };
  let x: QueueNode, y: QueueNode, z: QueueNode;
  let ax: Member, by: Member, cz: Member;
  let release: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    await requireService(service, port);
    // Another suite restarts the machine's RabbitMQ: not while this one uses it.
    if (type === 'amqp') release = await holdLock('rabbitmq');
    [x, y] = await Promise.all([startNode('X', options), startNode('Y', options)]);
    await waitForServers([x, y], 2);
  });
  afterAll(async () => {
    closeClients();
    await stopNodes();
    await removeBuilds();
    await release?.();
  });

  it('two processes: each client gets the other once, and both lists agree', async () => {
    ax = await member(x, 'lobby', 'alice');
    by = await member(y, 'lobby', 'bob');
    await ax.view.until('bob on X', () => ax.view.present.includes('bob'));
    // Alice's join may still be on its way to Y when bob is tracked: then it comes as a diff.
    await by.view.until('alice on Y', () => by.view.present.join() === 'alice,bob');
    await listsAgree([x, y], 'lobby', { alice: [ax.sid], bob: [by.sid] });
    const [bobMeta] = ax.view.keys.get('bob')!.values();
    expect(bobMeta).toMatchObject({ sid: by.sid, on: 'Y' });
    exactlyOnce(ax, by);
  });

  it('a process that starts late converges, and its clients reach the others', async () => {
    z = await startNode('Z', options);
    await waitForServers([x, y, z], 3);
    await listsAgree([x, y, z], 'lobby', { alice: [ax.sid], bob: [by.sid] });
    cz = await member(z, 'lobby', 'carol');
    expect(cz.view.present).toEqual(['alice', 'bob', 'carol']);
    for (const m of [ax, by]) await m.view.until('carol', () => m.view.present.includes('carol'));
    await listsAgree([x, y, z], 'lobby', { alice: [ax.sid], bob: [by.sid], carol: [cz.sid] });
    exactlyOnce(ax, by, cz);
  });

  it('tracks, updates and untracks a client of another process by sid', async () => {
    await x.request('presence', 'track', 'lobby', 'bob-phone', { via: 'X' }, { sid: by.sid });
    await cz.view.until('bob-phone', () => cz.view.present.includes('bob-phone'));
    await y.request('presence', 'update', 'lobby', 'bob-phone', { via: 'Y' }, { sid: by.sid });
    await ax.view.until(
      'bob-phone via Y',
      () => ax.view.keys.get('bob-phone')?.get(by.sid)?.via === 'Y',
    );
    await z.request('presence', 'untrack', 'lobby', 'bob-phone', { sid: by.sid });
    for (const m of [ax, by, cz])
      await m.view.until('bob-phone gone', () => !m.view.present.includes('bob-phone'));
    await expect(
      x.request('presence', 'track', 'lobby', 'k', {}, { sid: 'no-such-sid' }),
    ).rejects.toThrow(/No client with sid "no-such-sid"/);
    exactlyOnce(ax, by, cz);
  });

  it('a client that disconnects leaves once, on every process', async () => {
    const dave = await member(y, 'lobby', 'dave');
    for (const m of [ax, by, cz]) await m.view.until('dave', () => m.view.present.includes('dave'));
    dave.socket.disconnect();
    for (const m of [ax, by, cz])
      await m.view.until('dave gone', () => !m.view.present.includes('dave'));
    await listsAgree([x, y, z], 'lobby', { alice: [ax.sid], bob: [by.sid], carol: [cz.sid] });
    exactlyOnce(ax, by, cz);
  });

  it("SIGKILL: the others drop the dead process's clients within the timeout, one leave each", async () => {
    const extra = await member(z, 'lobby', 'erin');
    for (const m of [ax, by]) await m.view.until('erin', () => m.view.present.includes('erin'));
    const killedAt = Date.now();
    await z.kill('SIGKILL');
    await Promise.all(
      [ax, by].map((m) =>
        m.view.until(
          'carol and erin gone',
          () => !m.view.present.includes('carol') && !m.view.present.includes('erin'),
        ),
      ),
    );
    const took = Date.now() - killedAt;
    // Dropped after `timeout` of silence, checked every heartbeat (plus a loaded machine's slack).
    expect(took).toBeGreaterThanOrEqual(PRESENCE.timeout - PRESENCE.heartbeatInterval);
    expect(took).toBeLessThan(PRESENCE.timeout + 2 * PRESENCE.heartbeatInterval + 2000);
    await listsAgree([x, y], 'lobby', { alice: [ax.sid], bob: [by.sid] });
    for (const m of [ax, by]) {
      expect(m.view.leaves.get(`carol/${cz.sid}`)).toBe(1);
      expect(m.view.leaves.get(`erin/${extra.sid}`)).toBe(1);
    }
    exactlyOnce(ax, by);
  });

  it.runIf(type !== 'redis-sharded' && type !== 'redis-streams')(
    'an emitterOnly worker lists the cluster (read-only)',
    async () => {
      const worker = await startNode('W', { ...options, emitterOnly: true });
      expect(summary(await worker.request<PresenceState>('presence', 'list', 'lobby'))).toEqual({
        alice: [ax.sid],
        bob: [by.sid],
      });
      const frank = await member(x, 'lobby', 'frank');
      const deadline = Date.now() + 10_000;
      let seen: PresenceState = {};
      while (!seen.frank && Date.now() < deadline)
        seen = await worker.request<PresenceState>('presence', 'list', 'lobby');
      expect(summary(seen)).toEqual({ alice: [ax.sid], bob: [by.sid], frank: [frank.sid] });
      await expect(
        worker.request('presence', 'track', 'lobby', 'w', {}, { sid: ax.sid }),
      ).rejects.toThrow();
      await worker.stop();
    },
  );
});

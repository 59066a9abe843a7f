import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import { closeClients, collect, connect, next } from '../../support/app.js';
import { removeBuilds } from '../../support/build-fixture.js';
import {
  barrier,
  startNode,
  stopNodes,
  waitForServers,
  type QueueNode,
} from '../../support/queue-cluster.js';
import { POSTGRES_URL, requireService } from '../../support/services.js';

// Two application processes and a worker on the real PostgreSQL (LISTEN/NOTIFY).
describe('message queue on PostgreSQL: two processes and a worker', () => {
  // Unique per run: several runs may share the database.
  const channel = `pg-${randomUUID().slice(0, 8)}`;
  // The Postgres adapter learns its peers by heartbeat; a short one keeps start-up quick.
  const messageQueue = {
    type: 'postgres' as const,
    url: POSTGRES_URL,
    adapterOptions: { heartbeatInterval: 300 },
  };
  let a: QueueNode, b: QueueNode;
  let onA: ClientSocket, onB: ClientSocket;

  beforeAll(async () => {
    await requireService('PostgreSQL', 5432);
    [a, b] = await Promise.all(['A', 'B'].map((l) => startNode(l, { messageQueue, channel })));
    await waitForServers([a, b], 2);
    [onA, onB] = await Promise.all([connect(a.url), connect(b.url)]);
  });
  afterAll(async () => {
    closeClients();
    await stopNodes();
    await removeBuilds();
  });

  it('emits to everyone, to a sid on the other process, and skips sids across processes', async () => {
    const all = [onA, onB].map((s) => next(s, 'news'));
    await a.request('emit', 'news', { n: 1 });
    expect(await Promise.all(all)).toEqual([{ n: 1 }, { n: 1 }]);

    const direct = next(onB, 'message');
    await a.request('send', 'for B', { to: onB.id });
    expect(await direct).toBe('for B');

    const gotA = next(onA, 'most');
    const bSeen = collect(onB, 'most');
    await b.request('emit', 'most', 'not B', { skipSid: onB.id });
    expect(await gotA).toBe('not B');
    await barrier(b, onB);
    expect(bSeen).toEqual([]);
  });

  it('joinRoom, rooms, leaveRoom and closeRoom of a client on the other process', async () => {
    const room = `room-${randomUUID()}`;
    await a.request('joinRoom', room, { sid: onB.id });
    const got = next(onB, 'in-room');
    await a.request('emit', 'in-room', 'hello', { to: room });
    expect(await got).toBe('hello');
    expect(((await a.request('rooms', { sid: onB.id })) as string[]).toSorted()).toEqual(
      [onB.id, room].toSorted(),
    );
    await a.request('leaveRoom', room, { sid: onB.id });
    expect(await a.request('rooms', { sid: onB.id })).toEqual([onB.id]);

    await a.request('joinRoom', room, { sid: onB.id });
    await b.request('joinRoom', room, { sid: onA.id });
    await a.request('closeRoom', room);
    expect(await b.request('rooms', { sid: onA.id })).toEqual([onA.id]);
    expect(await a.request('rooms', { sid: onB.id })).toEqual([onB.id]);
    const seen = [onA, onB].map((s) => collect(s, 'in-room'));
    await a.request('emit', 'in-room', 'closed', { to: room });
    await barrier(a, onA, onB);
    expect(seen).toEqual([[], []]);
  });

  it('call() to a client on the other process: its ack, or a TimeoutError', async () => {
    onB.on('add', (x: number[], ack: (n: number) => void) => ack(x[0] + x[1]));
    expect(await a.request('call', 'add', [2, 3], { to: onB.id, timeout: 5000 })).toBe(5);
    onB.on('mute', () => undefined);
    await expect(
      a.request('call', 'mute', null, { to: onB.id, timeout: 300 }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('an emitter-only worker reaches both processes and manages their rooms', async () => {
    const worker = await startNode('worker', { messageQueue, channel, emitterOnly: true });
    const all = [onA, onB].map((s) => next(s, 'from-worker'));
    await worker.request('emit', 'from-worker', 'tick');
    expect(await Promise.all(all)).toEqual(['tick', 'tick']);

    // Over 8000 bytes, a message travels through the attachment table.
    const big = 'x'.repeat(20_000);
    const bigOnes = [onA, onB].map((s) => next(s, 'big'));
    const direct = next(onB, 'big-direct');
    await worker.request('emit', 'big', big);
    await a.request('emit', 'big-direct', big, { to: onB.id });
    expect(await Promise.all(bigOnes)).toEqual([big, big]);
    expect(await direct).toBe(big);

    const room = `w-${randomUUID()}`;
    await worker.request('joinRoom', room, { sid: onA.id });
    const inRoom = next(onA, 'room-tick');
    const bSeen = collect(onB, 'room-tick');
    await worker.request('emit', 'room-tick', 1, { to: room });
    expect(await inRoom).toBe(1);
    expect(await b.request('rooms', { sid: onA.id })).toContain(room);
    await barrier(a, onB);
    expect(bSeen).toEqual([]);

    const victim = await connect(b.url);
    const gone = next(victim, 'disconnect');
    await worker.request('disconnect', { sid: victim.id });
    expect(await gone).toBe('io server disconnect');
    await expect(worker.request('call', 'x', 1, { to: onA.id })).rejects.toThrow(
      'needs a Socket.IO server',
    );
    await worker.stop();
  });

  it('disconnect() of a client on the other process; no process saw a problem', async () => {
    const victim = await connect(a.url);
    const sid = victim.id;
    const gone = next(victim, 'disconnect');
    await b.request('disconnect', { sid });
    expect(await gone).toBe('io server disconnect');
    await expect(b.request('rooms', { sid })).rejects.toMatchObject({ name: 'UnknownClientError' });
    for (const n of [a, b]) {
      expect(n.problems).toEqual([]);
      expect(n.logs.filter((l) => l.level === 'error')).toEqual([]);
    }
  });
});

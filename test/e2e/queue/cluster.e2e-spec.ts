import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
import { holdLock, QUEUE_KINDS, requireService, type QueueKind } from '../../support/services.js';

afterAll(() => removeBuilds());

// Three application processes on each real message queue, clients spread over them: every
// SocketService operation made on one process is checked from the clients connected to the
// others. The same suite runs on every queue kind.
describe.each(QUEUE_KINDS)('message queue on $name: three processes', (kind: QueueKind) => {
  // Unique per run: several runs may share the service.
  const channel = `test-${kind.name}-${randomUUID().slice(0, 8)}`;
  const options = { messageQueue: kind.messageQueue, channel };
  let release: (() => Promise<void>) | undefined;
  let a: QueueNode, b: QueueNode, c: QueueNode;
  let onA: ClientSocket, onB: ClientSocket, onC: ClientSocket;

  beforeAll(async () => {
    await requireService(kind.service, kind.port);
    if (kind.lock) release = await holdLock(kind.lock);
    [a, b, c] = await Promise.all(['A', 'B', 'C'].map((label) => startNode(label, options)));
    await waitForServers([a, b, c], 3);
    [onA, onB, onC] = await Promise.all([connect(a.url), connect(b.url), connect(c.url)]);
  }, 300_000);
  afterEach(() => {
    for (const s of [onA, onB, onC]) s?.removeAllListeners();
  });
  afterAll(async () => {
    closeClients();
    await stopNodes();
    await release?.();
  });

  it('emit and send without `to` reach the clients of every process', async () => {
    const news = [onA, onB, onC].map((s) => next(s, 'news'));
    const messages = [onA, onB, onC].map((s) => next(s, 'message'));
    await b.request('emit', 'news', { title: 'from B' });
    await c.request('send', 'hello from C');
    expect(await Promise.all(news)).toEqual([0, 1, 2].map(() => ({ title: 'from B' })));
    expect(await Promise.all(messages)).toEqual(['hello from C', 'hello from C', 'hello from C']);
  });

  it('emits to a sid served by another process, and skipSid skips clients of other processes', async () => {
    const direct = next(onC, 'direct');
    const aSeen = collect(onA, 'direct');
    await a.request('emit', 'direct', 'only C', { to: onC.id });
    expect(await direct).toBe('only C');

    const gotA = next(onA, 'all-but');
    const bSeen = collect(onB, 'all-but');
    const cSeen = collect(onC, 'all-but');
    await a.request('emit', 'all-but', 'x', { skipSid: [onB.id, onC.id] });
    expect(await gotA).toBe('x');
    await barrier(a, onB, onC);
    expect(bSeen).toEqual([]);
    expect(cSeen).toEqual([]);
    expect(aSeen).toEqual([]);
  });

  it('carries large payloads and binary data across processes', async () => {
    // Over 8000 bytes, a Postgres message travels through the attachment table.
    const big = 'x'.repeat(20_000);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const bigOnes = [onB, onC].map((s) => next(s, 'big'));
    const binary = next<{ bytes: ArrayBuffer | Uint8Array }>(onB, 'binary');
    await a.request('emit', 'big', big);
    await a.request('emit', 'binary', { bytes }, { to: onB.id });
    expect(await Promise.all(bigOnes)).toEqual([big, big]);
    const received = (await binary).bytes;
    expect(Buffer.from(received as Uint8Array)).toEqual(bytes);
  });

  it('joinRoom of a client on another process is in effect once it resolves', async () => {
    const room = `room-${randomUUID()}`;
    await a.request('joinRoom', room, { sid: onC.id });
    // The very next emit to the room, from a third process, reaches the client.
    const got = next(onC, 'in-room');
    await b.request('emit', 'in-room', 'hi room', { to: room });
    expect(await got).toBe('hi room');
    expect(((await a.request('rooms', { sid: onC.id })) as string[]).toSorted()).toEqual(
      [onC.id, room].toSorted(),
    );

    await b.request('leaveRoom', room, { sid: onC.id });
    expect(await a.request('rooms', { sid: onC.id })).toEqual([onC.id]);
    const seen = collect(onC, 'in-room');
    await a.request('emit', 'in-room', 'after leave', { to: room });
    await barrier(a, onC);
    expect(seen).toEqual([]);
  });

  it('joins several rooms at once and closeRoom empties a room on every process', async () => {
    const room = `room-${randomUUID()}`;
    const other = `other-${randomUUID()}`;
    await a.request('joinRoom', [room, other], { sid: onB.id });
    await a.request('joinRoom', room, { sid: onC.id });
    await a.request('joinRoom', room, { sid: onA.id });
    const all = [onA, onB, onC].map((s) => next(s, 'room-news'));
    await c.request('emit', 'room-news', 1, { to: room });
    expect(await Promise.all(all)).toEqual([1, 1, 1]);

    await b.request('closeRoom', room);
    for (const [s, rooms] of [
      [onA, [onA.id]],
      [onB, [onB.id, other].toSorted()],
      [onC, [onC.id]],
    ] as const) {
      expect(((await c.request('rooms', { sid: s.id })) as string[]).toSorted()).toEqual(rooms);
    }
    const seen = [onA, onB, onC].map((s) => collect(s, 'room-news'));
    await c.request('emit', 'room-news', 2, { to: room });
    await barrier(c, onA, onB, onC);
    expect(seen).toEqual([[], [], []]);
  });

  it('call() reaches a client on another process and returns its ack, or times out', async () => {
    onC.on('question', (q: string, ack: (a: unknown) => void) => ack({ answer: `${q}!` }));
    expect(await a.request('call', 'question', 'ready', { to: onC.id, timeout: 5000 })).toEqual({
      answer: 'ready!',
    });
    onB.on('ignored', () => undefined);
    await expect(
      a.request('call', 'ignored', null, { to: onB.id, timeout: 300 }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(
      a.request('call', 'question', 'x', { to: 'no-such-sid', timeout: 3000 }),
    ).rejects.toMatchObject({ name: 'UnknownClientError' });
  });

  it('helpers for an unknown sid fail with UnknownClientError', async () => {
    for (const [op, ...args] of [
      ['rooms', { sid: 'nobody' }],
      ['joinRoom', 'r', { sid: 'nobody' }],
      ['leaveRoom', 'r', { sid: 'nobody' }],
      ['disconnect', { sid: 'nobody' }],
    ] as const) {
      await expect(a.request(op, ...args)).rejects.toMatchObject({
        name: 'UnknownClientError',
        message: 'No client with sid "nobody" is connected to namespace "/"',
      });
    }
  });

  it('works in other namespaces too', async () => {
    const [adminA, adminC] = await Promise.all([
      connect(`${a.url}/admin`),
      connect(`${c.url}/admin`),
    ]);
    const got = [adminA, adminC].map((s) => next(s, 'notice'));
    const rootSeen = collect(onA, 'notice');
    await b.request('emit', 'notice', 'admins only', { namespace: '/admin' });
    expect(await Promise.all(got)).toEqual(['admins only', 'admins only']);
    await b.request('joinRoom', 'ops', { sid: adminC.id, namespace: '/admin' });
    expect(await a.request('rooms', { sid: adminC.id, namespace: '/admin' })).toContain('ops');
    await barrier(b, onA);
    expect(rootSeen).toEqual([]);
  });

  it('disconnect() of a client served by another process', async () => {
    const victim = await connect(b.url);
    const sid = victim.id;
    const gone = next(victim, 'disconnect');
    await a.request('disconnect', { sid });
    expect(await gone).toBe('io server disconnect');
    await expect(c.request('rooms', { sid })).rejects.toMatchObject({
      name: 'UnknownClientError',
    });
  });

  it.runIf(kind.knownOnceStarted)(
    'a process that has just started is known to the others at once',
    async () => {
      // No waiting for heartbeats: the new process's start-up completed, so it is in the cluster.
      const d = await startNode('D', options);
      const onD = await connect(d.url);
      expect(await a.request('rooms', { sid: onD.id })).toEqual([onD.id]);
      onD.on('ping', (n: number, ack: (m: number) => void) => ack(n + 1));
      expect(await b.request('call', 'ping', 1, { to: onD.id, timeout: 5000 })).toBe(2);
      const gone = next(onD, 'disconnect');
      await c.request('disconnect', { sid: onD.id });
      expect(await gone).toBe('io server disconnect');
      await d.stop();
    },
  );

  it('an emitter-only worker reaches the clients of every process', async () => {
    const worker = await startNode('worker', { ...options, emitterOnly: true });
    const all = [onA, onB, onC].map((s) => next(s, 'job-done'));
    await worker.request('emit', 'job-done', { id: 7 });
    expect(await Promise.all(all)).toEqual([0, 1, 2].map(() => ({ id: 7 })));

    const direct = next(onB, 'message');
    await worker.request('send', 'to B only', { to: onB.id });
    expect(await direct).toBe('to B only');

    const big = 'y'.repeat(20_000);
    const bigOnes = [onA, onC].map((s) => next(s, 'big'));
    await worker.request('emit', 'big', big);
    expect(await Promise.all(bigOnes)).toEqual([big, big]);

    // A room change made by the worker is in effect for the worker's next emit.
    const room = `worker-${randomUUID()}`;
    await worker.request('joinRoom', room, { sid: onA.id });
    await worker.request('joinRoom', room, { sid: onC.id });
    const inRoom = [onA, onC].map((s) => next(s, 'room-job'));
    const bSeen = collect(onB, 'room-job');
    await worker.request('emit', 'room-job', 'r', { to: room, skipSid: onC.id });
    await worker.request('emit', 'room-job', 'r2', { to: room });
    expect(await inRoom[0]).toBe('r');
    expect(await inRoom[1]).toBe('r2');
    expect(await a.request('rooms', { sid: onC.id })).toContain(room);
    await worker.request('leaveRoom', room, { sid: onC.id });
    expect(await a.request('rooms', { sid: onC.id })).toEqual([onC.id]);
    await worker.request('closeRoom', room);
    expect(await b.request('rooms', { sid: onA.id })).toEqual([onA.id]);
    await barrier(a, onB);
    expect(bSeen).toEqual([]);

    // call() and rooms() need a server, and say so.
    await expect(worker.request('call', 'question', 1, { to: onA.id })).rejects.toThrow(
      'SocketService.call() needs a Socket.IO server; it is not available with emitterOnly: true',
    );
    await expect(worker.request('rooms', { sid: onA.id })).rejects.toThrow(
      'SocketService.rooms() needs a Socket.IO server',
    );

    const victim = await connect(c.url);
    const gone = next(victim, 'disconnect');
    await worker.request('disconnect', { sid: victim.id });
    expect(await gone).toBe('io server disconnect');
    // The worker is not a server: nobody counts it.
    expect(await a.request('serverCount')).toBe(3);
    await worker.stop();
  });

  it('two channels on one service do not hear each other', async () => {
    const other = `${channel}-other`;
    const d = await startNode('D', { messageQueue: kind.messageQueue, channel: other });
    const otherWorker = await startNode('W2', {
      messageQueue: kind.messageQueue,
      channel: other,
      emitterOnly: true,
    });
    const onD = await connect(d.url);
    // D counts only itself; A, B and C count the three of them.
    expect(await d.request('serverCount')).toBe(1);
    expect(await a.request('serverCount')).toBe(3);

    const dSeen = collect(onD, 'news');
    const mine = [onA, onB, onC].map((s) => next(s, 'news'));
    await a.request('emit', 'news', 'channel one');
    expect(await Promise.all(mine)).toEqual(['channel one', 'channel one', 'channel one']);

    const theirs = next(onD, 'news');
    const seen = [onA, onB, onC].map((s) => collect(s, 'news'));
    await otherWorker.request('emit', 'news', 'channel two');
    expect(await theirs).toBe('channel two');
    // Round trips through both apps after both emits: nothing crossed over.
    await barrier(a, onA, onB, onC);
    expect(await onD.timeout(5000).emitWithAck('echo', 1)).toEqual({ from: 'D', data: 1 });
    expect(dSeen).toEqual(['channel two']);
    expect(seen).toEqual([[], [], []]);
    await expect(a.request('rooms', { sid: onD.id })).rejects.toMatchObject({
      name: 'UnknownClientError',
    });
    await Promise.all([d.stop(), otherWorker.stop()]);
  });

  it('no process logged a problem or saw an unhandled rejection', () => {
    for (const n of [a, b, c]) {
      expect(n.problems).toEqual([]);
      expect(n.logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    }
  });
});

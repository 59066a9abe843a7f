import { randomUUID } from 'node:crypto';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { INestApplication } from '@nestjs/common';
import { SocketIOModule, SocketService } from 'nest-socketio';
import { closeClients, connect, next, startApp } from '../../support/app.js';
import { removeBuilds } from '../../support/build-fixture.js';
import { startNode, stopNodes } from '../../support/queue-cluster.js';
import { REDIS_URL, requireService } from '../../support/services.js';
import { ReliabilityGateway } from '../../support/reliability-fixtures.js';
import { RoundRobinProxy } from '../../support/reliability-proxy.js';

/** Every `seq` number a client receives, in order. */
function sequence(socket: ClientSocket): number[] {
  const seen: number[] = [];
  socket.on('seq', (n: number) => seen.push(n));
  return seen;
}

/** The label of the process serving a client (queue-app's echo says it). */
async function servedBy(c: ClientSocket): Promise<string> {
  return ((await c.timeout(5000).emitWithAck('echo', null)) as { from: string }).from;
}

/** Cuts the client's TCP connection, as a network failure does. */
function dropConnection(socket: ClientSocket): void {
  const transport = socket.io.engine.transport as unknown as {
    ws: { _socket: { destroy(): void } };
  };
  transport.ws._socket.destroy();
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a crashed process (SIGKILL) among three on Redis', () => {
  let proxy: RoundRobinProxy | undefined;
  afterAll(async () => {
    closeClients();
    await proxy?.stop();
    await stopNodes();
    await removeBuilds();
  });

  it('its clients reconnect to the others; the others lose nothing', async () => {
    await requireService('Redis', 6379);
    const channel = `reliability-${randomUUID()}`;
    const nodes = await Promise.all(
      ['A', 'B', 'C'].map((label) => startNode(label, { messageQueue: REDIS_URL, channel })),
    );
    proxy = new RoundRobinProxy(nodes.map((n) => ({ port: Number(new URL(n.url).port) })));
    await proxy.start();
    const clients: ClientSocket[] = [];
    for (let i = 0; i < 30; i++) {
      clients.push(
        await connect(proxy.url, {
          reconnection: true,
          reconnectionDelay: 50,
          reconnectionDelayMax: 200,
        }),
      );
    }
    const before = await Promise.all(clients.map(servedBy));
    expect(new Set(before)).toEqual(new Set(['A', 'B', 'C']));
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const ofC = clients.filter((_, i) => before[i] === 'C');
    const others = clients.filter((_, i) => before[i] !== 'C');
    const seen = new Map(clients.map((s) => [s, sequence(s)]));

    // A steady stream of broadcasts from A, with C killed in the middle of it.
    const TOTAL = 200;
    let sent = 0;
    const stream = (async () => {
      for (; sent < TOTAL; sent++) {
        await a.request('emit', 'seq', sent);
        if (sent % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until(() => sent >= 50, '50 broadcasts');
    const killed = c.kill('SIGKILL');
    const dropped = ofC.map((s) => next<string>(s, 'disconnect'));
    expect(await killed).toBe(null);
    // A crash closes the TCP connections (FIN, or RST when data was in flight).
    for (const reason of await Promise.all(dropped)) {
      expect(['transport close', 'transport error']).toContain(reason);
    }
    await stream;

    // C's clients are back, on A or B.
    await until(() => ofC.every((s) => s.connected), "C's clients to reconnect");
    const after = await Promise.all(ofC.map(servedBy));
    for (const label of after) expect(['A', 'B']).toContain(label);

    // Clients of A and B got every broadcast, in order, exactly once.
    await b.request('emit', 'seq', TOTAL);
    await until(() => others.every((s) => seen.get(s)!.at(-1) === TOTAL), 'the last broadcast');
    const all = Array.from({ length: TOTAL + 1 }, (_, i) => i);
    for (const s of others) expect(seen.get(s)).toEqual(all);
    // C's clients get what is broadcast after they are back.
    await b.request('emit', 'seq', TOTAL + 1);
    await until(() => ofC.every((s) => seen.get(s)!.at(-1) === TOTAL + 1), 'the rejoined clients');
  });
});

describe('connectionStateRecovery', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    closeClients();
    await app?.close();
  });

  it('replays what was emitted while a client was briefly away', async () => {
    const started = await startApp({
      imports: [SocketIOModule.forRoot({ logger: false, connectionStateRecovery: true })],
      providers: [ReliabilityGateway],
    });
    app = started.app;
    const sockets = app.get(SocketService);
    const c = await connect(started.url);
    const sid = c.id;
    const seen = sequence(c);
    const first = next(c, 'seq');
    sockets.emit('seq', 0);
    await first;

    // The connection drops (no reconnection yet); the server sees it go.
    c.io.reconnection(false);
    const gone = next<string>(c, 'disconnect');
    dropConnection(c);
    expect(await gone).toBe('transport close');
    await until(() => sockets.server.engine.clientsCount === 0, 'the server to see it go');
    for (let i = 1; i <= 3; i++) sockets.emit('seq', i);
    sockets.emit('seq', 4, { volatile: true });

    // It comes back in time: same id, recovered, and the missed packets (not the volatile one).
    const back = next(c, 'connect');
    c.connect();
    await back;
    expect(c.recovered).toBe(true);
    expect(c.id).toBe(sid);
    sockets.emit('seq', 5);
    await until(() => seen.at(-1) === 5, 'the next emit');
    expect(seen).toEqual([0, 1, 2, 3, 5]);
  });

  it('does not recover without the option: the client starts afresh', async () => {
    const started = await startApp({
      imports: [SocketIOModule.forRoot({ logger: false })],
      providers: [ReliabilityGateway],
    });
    app = started.app;
    const sockets = app.get(SocketService);
    const c = await connect(started.url);
    const seen = sequence(c);
    const sid = c.id;
    c.io.reconnection(false);
    const gone = next(c, 'disconnect');
    dropConnection(c);
    await gone;
    await until(() => sockets.server.engine.clientsCount === 0, 'the server to see it go');
    sockets.emit('seq', 1);
    const back = next(c, 'connect');
    c.connect();
    await back;
    expect(c.recovered).not.toBe(true);
    expect(c.id).not.toBe(sid);
    expect(seen).toEqual([]);
  });
});

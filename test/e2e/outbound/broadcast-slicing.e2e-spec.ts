import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService, type SocketIOModuleOptions } from 'nest-socketio';
import { closeClients, collect, connect, startApp } from '../../support/app.js';
import { REDIS_URL } from '../../support/services.js';

// Large broadcasts written in slices across event-loop turns: 300 real clients, slices of 50.
const CLIENTS = 300;
const SLICING = { threshold: 100, sliceSize: 50 };

@WebSocketGateway()
class Gateway {
  @WebSocketServer() server!: Server;
}

const apps: INestApplication[] = [];
afterEach(async () => {
  closeClients();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(options: SocketIOModuleOptions) {
  const { app, url } = await startApp({
    imports: [SocketIOModule.forRoot(options)],
    providers: [Gateway],
  });
  apps.push(app);
  const clients: ClientSocket[] = [];
  for (let i = 0; i < CLIENTS; i += 50) {
    clients.push(...(await Promise.all(Array.from({ length: 50 }, () => connect(url)))));
  }
  const server = app.get(Gateway).server;
  return {
    app,
    url,
    clients,
    server,
    sockets: app.get(SocketService),
    writes: countWrites(server),
  };
}

/**
 * Counts the message packets the server writes, and in which event-loop turn: a turn counter
 * moves on with every setImmediate, so one synchronous write-out shows as a single turn.
 */
function countWrites(server: Server) {
  const state = { total: 0, turns: new Set<number>(), turn: 0, spinning: true };
  const spin = () => {
    state.turn++;
    if (state.spinning) setImmediate(spin);
  };
  setImmediate(spin);
  const watch = (socket: Socket) =>
    socket.conn.on('packetCreate', (packet: { type: string }) => {
      if (packet.type !== 'message') return;
      state.total++;
      state.turns.add(state.turn);
    });
  server.of('/').sockets.forEach(watch);
  return {
    get total() {
      return state.total;
    },
    get turns() {
      return state.turns.size;
    },
    reset() {
      state.total = 0;
      state.turns.clear();
    },
    stop() {
      state.spinning = false;
    },
  };
}

/** Resolves once every list (what each client collected) holds `count` values. */
async function receivedBy(seen: unknown[][], count: number) {
  const deadline = Date.now() + 10_000;
  while (seen.some((s) => s.length < count)) {
    if (Date.now() > deadline) throw new Error(`not every client got ${count} messages`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return seen;
}

describe('broadcastSlicing', () => {
  it('writes a large emit in slices; each client gets every message once, in order, direct emits included', async () => {
    const { clients, server, sockets, writes } = await start({ broadcastSlicing: SLICING });
    const seen = clients.map((c) => collect<number>(c, 'seq'));
    const serverSockets = [...server.of('/').sockets.values()];
    const last = serverSockets.at(-1)!;
    sockets.emit('seq', 1);
    server.emit('seq', 2);
    // Direct packets to clients whose slice is still pending must not overtake those emits.
    last.emit('seq', 3);
    serverSockets[CLIENTS / 2].emit('seq', 3);
    sockets.emit('seq', 4);
    expect(writes.total).toBeLessThan(CLIENTS);
    await receivedBy(seen, 3);
    writes.stop();
    // Each slice writes 50 clients, each with all its pending emits (one write, as unsliced).
    expect(writes.turns).toBeGreaterThanOrEqual(CLIENTS / SLICING.sliceSize);
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen.forEach((got, i) => {
      const targeted = i === CLIENTS - 1 || i === CLIENTS / 2;
      expect(got).toEqual(targeted ? [1, 2, 3, 4] : [1, 2, 4]);
    });
  });

  it('keeps the event loop answering: a timer set right after the emit fires before it ends', async () => {
    const { clients, sockets, writes } = await start({ broadcastSlicing: SLICING });
    const seen = clients.map((c) => collect<string>(c, 'big'));
    sockets.emit('big', 'x');
    const atTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(writes.total)));
    expect(atTimer).toBeGreaterThan(0);
    expect(atTimer).toBeLessThan(CLIENTS);
    await receivedBy(seen, 1);
    writes.stop();
  });

  it('respects rooms and except, and counts emitWithAck replies while a slice is pending', async () => {
    const { clients, server, sockets, writes } = await start({ broadcastSlicing: SLICING });
    const serverSockets = [...server.of('/').sockets.values()];
    const byId = new Map(serverSockets.map((s) => [s.id, s]));
    // Clients 0..199 in 'many', 150..199 also in 'skip'.
    for (const [i, c] of clients.entries()) {
      if (i < 200) await byId.get(c.id!)!.join(i >= 150 ? ['many', 'skip'] : 'many');
    }
    const seen = clients.map((c) => {
      const got = collect<string>(c, 'room');
      c.on('ask', (ack: (reply: string) => void) => {
        got.push('ask');
        ack(c.id!);
      });
      return got;
    });
    sockets.emit('room', 'first', { to: 'many' });
    server.to('many').except('skip').emit('room', 'second');
    const replies = await server.timeout(5000).emitWithAck('ask');
    expect(replies).toHaveLength(CLIENTS);
    expect(new Set(replies)).toEqual(new Set(clients.map((c) => c.id)));
    writes.stop();
    // The ack emit came last: every client got the room emits it was due first.
    seen.forEach((got, i) => {
      if (i < 150) expect(got).toEqual(['first', 'second', 'ask']);
      else if (i < 200) expect(got).toEqual(['first', 'ask']);
      else expect(got).toEqual(['ask']);
    });
  });

  it('serves volatile emits and skips clients that left meanwhile; the others get it once', async () => {
    const { clients, server, sockets } = await start({ broadcastSlicing: SLICING });
    const seen = clients.map((c) => collect<string>(c, 'v'));
    const bye = clients.map((c) => collect<string>(c, 'disconnect'));
    sockets.emit('v', 'volatile', { volatile: true });
    sockets.emit('v', 'kept');
    const leaving = [...server.of('/').sockets.values()].slice(-10);
    for (const s of leaving) s.disconnect(true);
    await receivedBy(seen.slice(0, -10), 2);
    // The server disconnected them after the emits: they got both first, as without slicing.
    for (const got of seen.slice(-10)) expect(got).toEqual(['volatile', 'kept']);
    for (const got of bye.slice(-10)) expect(got).toEqual(['io server disconnect']);
    for (const got of seen.slice(0, -10)) expect(got).toEqual(['volatile', 'kept']);
  });

  it('writes every broadcast at once when it is off', async () => {
    const { clients, sockets, writes } = await start({ broadcastSlicing: false });
    const seen = clients.map((c) => collect<string>(c, 'big'));
    sockets.emit('big', 'x');
    expect(writes.total).toBe(CLIENTS);
    await receivedBy(seen, 1);
    writes.stop();
  });

  it('ends a slice after sliceMs even when sliceSize would allow more', async () => {
    // sliceSize alone would write all 300 in one turn; 300 writes take several milliseconds.
    const { clients, sockets, writes } = await start({
      broadcastSlicing: { threshold: 100, sliceSize: 10_000, sliceMs: 1 },
    });
    const seen = clients.map((c) => collect<string>(c, 'big'));
    sockets.emit('big', 'x');
    await receivedBy(seen, 1);
    writes.stop();
    expect(writes.total).toBe(CLIENTS);
    expect(writes.turns).toBeGreaterThanOrEqual(2);
    seen.forEach((got) => expect(got).toEqual(['x']));
  });

  it('takes an option given as undefined as its default (1,000 clients: 300 are written at once)', async () => {
    const { clients, sockets, writes } = await start({
      broadcastSlicing: { threshold: undefined, sliceSize: undefined, sliceMs: undefined },
    });
    const seen = clients.map((c) => collect<string>(c, 'big'));
    sockets.emit('big', 'x');
    expect(writes.total).toBe(CLIENTS);
    await receivedBy(seen, 1);
    writes.stop();
  });

  it('logs a write that throws in a slice and still serves everyone else, then and after', async () => {
    const { clients, server, sockets, writes } = await start({ broadcastSlicing: SLICING });
    writes.stop();
    const broken = [...server.of('/').sockets.values()][CLIENTS - 1];
    broken.onAnyOutgoing(() => {
      throw new Error('outgoing listener broke');
    });
    const others = clients.filter((c) => c.id !== broken.id);
    const seen = others.map((c) => collect<number>(c, 'seq'));
    sockets.emit('seq', 1);
    await receivedBy(seen, 1);
    broken.offAnyOutgoing();
    sockets.emit('seq', 2);
    await receivedBy(seen, 2);
    seen.forEach((got) => expect(got).toEqual([1, 2]));
  });

  it('slices the local delivery of a broadcast from another process (Redis)', async () => {
    const channel = `slicing-${randomUUID()}`;
    const options = { messageQueue: REDIS_URL, channel, broadcastSlicing: SLICING };
    const { app: sender } = await startApp({ imports: [SocketIOModule.forRoot(options)] });
    apps.push(sender);
    const receiver = await start(options);
    const seen = receiver.clients.map((c) => collect<number>(c, 'remote'));
    sender.get(SocketService).emit('remote', 1);
    sender.get(SocketService).emit('remote', 2);
    await receivedBy(seen, 2);
    receiver.writes.stop();
    expect(receiver.writes.total).toBe(2 * CLIENTS);
    expect(receiver.writes.turns).toBeGreaterThanOrEqual(CLIENTS / SLICING.sliceSize);
    for (const got of seen) expect(got).toEqual([1, 2]);
  });

  it.each([
    [{ threshold: 0 }, 'threshold must be a positive integer'],
    [{ sliceSize: 2.5 }, 'sliceSize must be a positive integer'],
    [{ size: 10 }, 'unknown key "size"'],
    [true, 'must be false or { threshold?, sliceSize?, sliceMs? }'],
    [{ sliceMs: 0 }, 'sliceMs must be a positive integer'],
  ])('refuses broadcastSlicing: %j at start-up, naming it', async (value, message) => {
    const failure = startApp({
      imports: [SocketIOModule.forRoot({ broadcastSlicing: value } as SocketIOModuleOptions)],
    });
    await expect(failure).rejects.toThrow('"broadcastSlicing"');
    await expect(failure).rejects.toThrow(message);
  });
});

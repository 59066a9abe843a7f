import { createServer, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SOCKET_IO_CHECKED_VERSION,
  closeServer,
  existingNamespace,
  holdPackets,
  interceptBroadcasts,
  namespacesOf,
  packetHook,
  type LocalBroadcast,
  refuseNewClients,
} from '../../../lib/internals/socket-io.internals.js';

// Each private detail of socket.io the package uses, tried on the installed socket.io with a
// real server and a real client.

const require = createRequire(import.meta.url);
const opened: { http: HttpServer; io: Server; clients: ClientSocket[] }[] = [];

async function serve() {
  const http = createServer();
  const server = new Server(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const entry = { http, io: server, clients: [] as ClientSocket[] };
  opened.push(entry);
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const connect = (namespace = '/', auth?: Record<string, unknown>) => {
    const client = io(url + namespace, { transports: ['websocket'], reconnection: false, auth });
    entry.clients.push(client);
    return client;
  };
  return { http, server, connect };
}

afterEach(async () => {
  for (const { http, io: server, clients } of opened.splice(0)) {
    for (const c of clients) c.disconnect();
    await server.close().catch(() => undefined);
    if (http.listening) await new Promise((resolve) => http.close(resolve));
  }
});

describe('socket.io internals (lib/internals/socket-io.internals.ts)', () => {
  it('was checked on the installed minor version of socket.io', () => {
    const { version } = require('socket.io/package.json') as { version: string };
    // A new minor may change a private: check every function here again, then update the version.
    expect(version.split('.').slice(0, 2)).toEqual(
      SOCKET_IO_CHECKED_VERSION.split('.').slice(0, 2),
    );
  });

  it('finds an existing namespace without creating one', async () => {
    const { server } = await serve();
    const chat = server.of('/chat');
    expect(existingNamespace(server, '/chat')).toBe(chat);
    expect(existingNamespace(server, '/')).toBe(server.of('/'));
    expect(existingNamespace(server, '/nobody')).toBeUndefined();
    expect(existingNamespace(server, '/nobody')).toBeUndefined();
    expect([...namespacesOf(server)]).toEqual([server.of('/'), chat]);
    expect(server._nsps.has('/nobody')).toBe(false);
  });

  it('lists every namespace of a server, dynamic children included', async () => {
    const { server, connect } = await serve();
    server.of('/chat');
    server.of(/^\/room-\d+$/);
    const child = connect('/room-7');
    await new Promise<void>((resolve) => child.once('connect', () => resolve()));
    expect(namespacesOf(server).map((n) => n.name)).toEqual(['/', '/chat', '/room-7']);
  });

  it('refuses new clients once told to, and keeps the connected ones', async () => {
    const { server, connect } = await serve();
    const first = connect();
    await new Promise<void>((resolve) => first.once('connect', () => resolve()));
    refuseNewClients(server, 'Server shutting down');
    const second = connect();
    const error = await new Promise<Error>((resolve) => second.once('connect_error', resolve));
    expect(error.message).toBe('websocket error');
    expect(first.connected).toBe(true);
  });

  it("closes like socket.io's close(), leaving a shared HTTP server open", async () => {
    const { http, server, connect } = await serve();
    const client = connect();
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const gone = new Promise<string>((resolve) => client.once('disconnect', resolve));
    await closeServer(server, http);
    expect(await gone).toBe('transport close');
    expect(http.listening).toBe(true);
    expect(server.httpServer).toBe(http);
  });

  it('closes a server of its own together with its HTTP server', async () => {
    const { http, server } = await serve();
    await closeServer(server, undefined);
    expect(http.listening).toBe(false);
  });

  it('holds what is emitted in admission until CONNECT is written, or drops it', async () => {
    const { server, connect } = await serve();
    // As the admission does: hold, decide, then release (accepted) or drop (refused).
    server.of('/held').use((socket, next) => {
      const held = holdPackets(socket);
      socket.emit('first');
      socket.emit('second');
      if (socket.handshake.auth.refuse) {
        held.drop();
        next(new Error('refused'));
      } else {
        held.release();
        next();
      }
    });
    const accepted = connect('/held');
    const received: string[] = [];
    accepted.on('connect', () => received.push('connect'));
    accepted.onAny((event: string) => received.push(event));
    await new Promise<void>((resolve) => accepted.on('second', () => resolve()));
    expect(received).toEqual(['connect', 'first', 'second']);

    const refused = connect('/held', { refuse: true });
    const heard: string[] = [];
    refused.onAny((event: string) => heard.push(event));
    const error = await new Promise<Error>((resolve) => refused.once('connect_error', resolve));
    expect(error.message).toBe('refused');
    expect(heard).toEqual([]);
  });

  it("hands over each broadcast's local delivery (once encoded), and passes other enumerations through", async () => {
    const { server, connect } = await serve();
    const clients = [connect(), connect(), connect()];
    await Promise.all(
      clients.map((c) => new Promise<void>((resolve) => c.once('connect', () => resolve()))),
    );
    const adapter = server.of('/').adapter as unknown as { _encode(...args: unknown[]): unknown };
    const delivered: LocalBroadcast[] = [];
    const encode = adapter._encode.bind(adapter);
    let encodings = 0;
    adapter._encode = (...args: unknown[]) => (encodings++, encode(...args));
    // broadcastWithAck counts its recipients as `collect` returns: it is written at once.
    const deliver = (b: LocalBroadcast) => {
      delivered.push(b);
      if (b.withAck) b.collect(b.write);
    };
    expect(interceptBroadcasts(adapter, deliver)).toBe(true);
    const got = clients.map(() => [] as unknown[]);
    clients.forEach((c, i) => c.on('hi', (v: unknown) => got[i].push(v)));
    const [first] = [...server.of('/').sockets.values()];
    await first.join('one');

    server.emit('hi', 1);
    server.to('one').emit('hi', 2);
    expect(delivered.map((b) => [b.estimate, b.withAck])).toEqual([
      [3, false],
      [1, false],
    ]);
    expect(encodings).toBe(2);
    // Nothing is written until the broadcast's own write runs for each collected socket.
    for (const b of delivered) b.collect(b.write);
    expect((await server.fetchSockets()).length).toBe(3);
    clients.forEach((c) => c.on('ask', (ack: (v: string) => void) => ack('yes')));
    delivered.length = 0;
    const replies = server.timeout(2000).emitWithAck('ask');
    expect(delivered.map((b) => b.withAck)).toEqual([true]);
    expect(await replies).toEqual(['yes', 'yes', 'yes']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(got).toEqual([[1, 2], [1], [1]]);
  });

  it('runs a hook before the next packet to a socket, until released', async () => {
    const { server, connect } = await serve();
    const client = connect();
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const [socket] = [...server.of('/').sockets.values()];
    const order: string[] = [];
    client.onAny((event: string) => order.push(event));
    const hook = packetHook((s) => order.push(s === socket ? 'hook' : 'wrong socket'));
    expect(hook.install(socket)).toBe(true);
    expect(packetHook(() => order.push('second hook')).install(socket)).toBe(false);
    socket.emit('direct');
    hook.release(socket);
    socket.emit('after');
    await new Promise((resolve) => client.on('after', resolve));
    expect(order).toEqual(['hook', 'direct', 'after']);
    expect(Object.hasOwn(socket, 'packet')).toBe(false);
  });
});

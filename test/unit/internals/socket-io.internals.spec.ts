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
  namespacesOf,
  holdPackets,
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
  const connect = (namespace = '/') => {
    const client = io(url + namespace, { transports: ['websocket'], reconnection: false });
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

  it('holds what is emitted to a socket until released, and drops it when told to', async () => {
    const { server, connect } = await serve();
    const sockets: import('socket.io').Socket[] = [];
    server.on('connection', (socket) => sockets.push(socket));
    const client = connect();
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const received: string[] = [];
    client.onAny((event: string) => received.push(event));
    const socket = sockets[0];
    const dropped = holdPackets(socket);
    socket.emit('never');
    dropped.drop();
    const held = holdPackets(socket);
    socket.emit('first');
    socket.emit('second');
    held.release();
    socket.emit('third');
    await new Promise<void>((resolve) => client.on('third', () => resolve()));
    expect(received).toEqual(['first', 'second', 'third']);
  });
});

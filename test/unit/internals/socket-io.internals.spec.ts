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
  namespacesOf,
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
});

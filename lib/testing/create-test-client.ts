import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type * as SocketIOClient from 'socket.io-client';
import { loadOptional } from '../load-optional.js';
import { SocketServers } from '../outbound/socket-servers.js';
import { DEFAULT_PATH, SOCKET_IO_MODULE_OPTIONS } from '../socket-io.constants.js';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import { SocketIOTestClient } from './socket-io-test-client.js';
import type { ServerProbe } from './server-probe.js';
import type { TestClientOptions } from './test-client.options.js';

function lookup<T>(app: INestApplication, token: unknown): T | undefined {
  try {
    return app.get(token as string, { strict: false }) as T;
  } catch {
    return undefined;
  }
}

/** The app's URL; an app that was only initialised is made to listen on a loopback port. */
async function urlOf(app: INestApplication): Promise<URL> {
  const http = app.getHttpServer() as HttpServer;
  // app.listen() marks the app as listening, so app.close() releases the port as usual.
  if (!http.listening) await app.listen(0, '127.0.0.1');
  const { address, port } = http.address() as AddressInfo;
  const host =
    address === '::' || address === '0.0.0.0'
      ? '127.0.0.1'
      : address.includes(':')
        ? `[${address}]`
        : address;
  return new URL(`http://${host}:${port}`);
}

/**
 * Creates a test client for an application (Flask-SocketIO's `socketio.test_client(app)`): works on
 * an app after `app.init()` (it then listens on an ephemeral loopback port, released by
 * `app.close()`) and connects to `options.namespace` unless `autoConnect: false`.
 * @example
 * const client = await createTestClient(app, { namespace: '/chat', auth: { token } });
 * expect(await client.emit('join', 'lobby', { ack: true })).toEqual({ ok: true });
 */
export async function createTestClient(
  app: INestApplication,
  options: TestClientOptions = {},
): Promise<SocketIOTestClient> {
  const { Manager } = await loadOptional<typeof SocketIOClient>(
    'socket.io-client',
    'createTestClient() (nest-socketio/testing)',
  );
  const url = await urlOf(app);
  const servers = lookup<SocketServers>(app, SocketServers);
  const moduleOptions = lookup<SocketIOModuleOptions>(app, SOCKET_IO_MODULE_OPTIONS);
  const path = options.path ?? moduleOptions?.path ?? servers?.path ?? DEFAULT_PATH;
  const timeout = options.timeout ?? 5000;
  const manager = new Manager(url.origin, {
    path,
    query: options.query,
    transports: options.transports ?? ['websocket'],
    reconnection: false,
    autoConnect: false,
    timeout,
  });
  const probe: ServerProbe = {
    socket: (namespace, sid) =>
      servers instanceof SocketServers ? servers.namespace(namespace)?.sockets.get(sid) : undefined,
  };
  const client = new SocketIOTestClient(manager, probe, { ...options, url, path });
  // The app's close() ends the client too, so no handle is left open.
  const http = app.getHttpServer() as HttpServer;
  const onAppClose = () => void client.close();
  http.once('close', onAppClose);
  client.onClose.push(() => http.off('close', onAppClose));
  if (options.autoConnect !== false) {
    try {
      await client.connect();
    } catch (err) {
      await client.close();
      throw err;
    }
  }
  return client;
}

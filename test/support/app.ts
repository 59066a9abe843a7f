import { Test } from '@nestjs/testing';
import { afterAll, beforeAll } from 'vitest';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import {
  io,
  type Socket as ClientSocket,
  type ManagerOptions,
  type SocketOptions,
} from 'socket.io-client';

/** Builds an app from module metadata, listens on an ephemeral loopback port, returns its URL. */
export async function startApp(
  metadata: ModuleMetadata,
  { fastify = false, quiet = true }: { fastify?: boolean; quiet?: boolean } = {},
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  let app: INestApplication;
  if (fastify) {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = moduleRef.createNestApplication(new FastifyAdapter() as any, {
      logger: quiet ? false : undefined,
    });
  } else {
    app = moduleRef.createNestApplication({ logger: quiet ? false : undefined });
  }
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

const clients = new Set<ClientSocket>();

/** Connects a real socket.io client and waits until the server accepts it. */
export async function connect(
  url: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<ClientSocket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...options,
  });
  clients.add(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/** A client that is not awaited: for refused connections. */
export function client(
  url: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
): ClientSocket {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...options,
  });
  clients.add(socket);
  return socket;
}

/** Closes every client opened by this file's tests. */
export function closeClients(): void {
  for (const socket of clients) socket.disconnect();
  clients.clear();
}

/** Resolves with the args of the next `event` on `socket`. */
export function next<T = unknown>(
  socket: ClientSocket,
  event: string,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${event}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once(event, (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}

/** Collects every `event` a socket receives. */
export function collect<T = unknown>(socket: ClientSocket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (arg: T) => seen.push(arg));
  return seen;
}

/**
 * One app and one connected client for a whole describe block: started in `beforeAll`, closed in
 * `afterAll`. Read `app` and `client` inside the tests (they are set once started).
 */
export function appWithClient(metadata: ModuleMetadata): {
  app: INestApplication;
  client: ClientSocket;
} {
  const started = {} as { app: INestApplication; client: ClientSocket };
  beforeAll(async () => {
    const { app, url } = await startApp(metadata);
    started.app = app;
    started.client = await connect(url);
  });
  afterAll(async () => {
    closeClients();
    await started.app?.close();
  });
  return started;
}

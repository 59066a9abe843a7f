import type { LoggerService } from '@nestjs/common';
import { Server, type Namespace } from 'socket.io';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import { createMessageQueue } from '../queue/create-message-queue.js';
import {
  isPresenceMessage,
  PRESENCE_CLUSTER_EVENT,
  type PresenceMessage,
  type PresenceTransport,
} from './presence-protocol.js';

/**
 * Presence messages as server-side events of a namespace: every cluster adapter carries them
 * (Redis, sharded Redis, Redis streams, Postgres, any `ClusterAdapter`), so presence needs no
 * channel or service of its own.
 */
export function namespaceTransport(
  nsp: Namespace,
  receive: (message: PresenceMessage) => void,
  logger: LoggerService,
  close: () => Promise<void> = async () => {},
): PresenceTransport {
  const listener = (message: unknown) => {
    if (isPresenceMessage(message)) receive(message);
  };
  nsp.on(PRESENCE_CLUSTER_EVENT, listener);
  let warned = false;
  return {
    publish(message) {
      try {
        nsp.serverSideEmit(PRESENCE_CLUSTER_EVENT, message);
      } catch (err) {
        // An adapter without server-side events (a custom, in-memory one) has no other process.
        if (warned) return;
        warned = true;
        logger.warn?.(
          `Presence: the adapter cannot reach other processes (${(err as Error).message}); presence stays local`,
        );
      }
    },
    async close() {
      nsp.off(PRESENCE_CLUSTER_EVENT, listener);
      await close();
    },
  };
}

/**
 * An emitter-only worker has no server, hence no adapter to hear the cluster with: presence gives
 * it a server that serves nobody (no HTTP), on the same message queue, so that `list()` can
 * follow the cluster's state. It is created on the first `list()`.
 */
export async function workerTransport(
  options: SocketIOModuleOptions,
  receive: (message: PresenceMessage) => void,
  logger: LoggerService,
): Promise<PresenceTransport> {
  const queue = await createMessageQueue({ ...options, emitterOnly: false }, logger);
  if (!queue?.adapter) throw new Error('Presence: emitterOnly: true needs a messageQueue');
  const server = new Server({ serveClient: false });
  server.adapter(queue.adapter as never);
  const nsp = server.of('/');
  return namespaceTransport(nsp, receive, logger, async () => {
    await nsp.adapter.close();
    await queue.close();
  });
}

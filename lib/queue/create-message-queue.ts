import type { LoggerService } from '@nestjs/common';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import type { MessageQueue, QueueStateListener } from './message-queue.interface.js';
import { createPostgresQueue } from './postgres-queue.js';
import { queueEndpoint } from './queue-endpoint.js';
import { createRedisQueue } from './redis-queue.js';
import { ClusterClients } from './cluster-clients.js';

/** Default prefix of every message-queue key and channel. */
export const DEFAULT_CHANNEL = 'nest-socketio';

/**
 * The message queue the options ask for, connected: undefined without one (one process, in
 * memory). A custom `adapter` needs no connection of ours, only the cluster room helpers.
 */
export async function createMessageQueue(
  options: SocketIOModuleOptions,
  logger: LoggerService,
  listener?: QueueStateListener,
): Promise<MessageQueue | undefined> {
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const emitterOnly = options.emitterOnly === true;
  if (options.adapter !== undefined && !emitterOnly) {
    return {
      adapter: options.adapter,
      remoteClients: (server) => new ClusterClients(server),
      close: async () => {},
    };
  }
  if (!options.messageQueue) {
    if (emitterOnly) {
      // An adapter serves a server's clients; with no server there is nothing to emit through.
      throw new Error(
        'SocketIOModule: emitterOnly: true needs a messageQueue (a Redis or Postgres URL); the adapter option alone cannot emit without a server',
      );
    }
    return undefined;
  }
  const endpoint = queueEndpoint(options.messageQueue);
  const queue = await (endpoint.type === 'postgres'
    ? createPostgresQueue(endpoint, channel, emitterOnly, logger, listener)
    : createRedisQueue(endpoint, channel, emitterOnly, logger, listener));
  logger.log(
    `Message queue: ${endpoint.type} on ${endpoint.label}, channel "${channel}"${emitterOnly ? ' (emitter only)' : ''}`,
  );
  return queue;
}

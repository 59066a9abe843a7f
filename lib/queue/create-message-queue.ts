import type { LoggerService } from '@nestjs/common';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import { DEFAULT_CHANNEL } from '../socket-io.constants.js';
import { clusterQueue } from './cluster-clients.js';
import type { MessageQueue, QueueStateListener } from './message-queue.interface.js';
import { messageQueueKind } from './queue-kinds.js';
import { queueEndpoint } from './queue-endpoint.js';
import { LocalOnlyClients } from './remote-clients.js';

/** The queue of a single process: socket.io's in-memory adapter, and no other process to ask. */
function inMemoryQueue(): MessageQueue {
  return { remoteClients: () => new LocalOnlyClients(), close: async () => {} };
}

/**
 * The message queue the options ask for, connected: in memory without one (one process). A
 * custom `adapter` needs no connection of ours, only the cluster room helpers.
 */
export async function createMessageQueue(
  options: SocketIOModuleOptions,
  logger: LoggerService,
  onState?: QueueStateListener,
): Promise<MessageQueue> {
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const emitterOnly = options.emitterOnly === true;
  if (options.adapter !== undefined && !emitterOnly) {
    return clusterQueue(options.adapter, async () => {});
  }
  // (The options were validated: an emitter-only worker has a messageQueue.)
  if (!options.messageQueue) return inMemoryQueue();
  const kind = messageQueueKind(options.messageQueue);
  if (!kind) throw new Error('SocketIOModule: unknown messageQueue'); // (validated already)
  const endpoint = queueEndpoint(options.messageQueue, kind);
  const queue = await kind.connect(endpoint, { channel, emitterOnly, logger, onState });
  logger.log(
    `Message queue: ${endpoint.type} on ${endpoint.label}, channel "${channel}"${emitterOnly ? ' (emitter only)' : ''}`,
  );
  return queue;
}

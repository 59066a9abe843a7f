import type { LoggerService } from '@nestjs/common';
import { loadOptional } from '../load-optional.js';
import { BrokerCluster, type BrokerLink } from './broker-cluster.js';
import { clusterQueue } from './cluster-clients.js';
import { encodeMessage, newProcessId } from './cluster-codec.js';
import { ClusterEmitter } from './cluster-emitter.js';
import { emitterQueue } from './emitter-clients.js';
import type { MessageQueue, QueueStateListener } from './message-queue.interface.js';
import { queueErrorText, unreachableQueueError, type QueueEndpoint } from './queue-endpoint.js';

/** Reconnection delay: exponential from 50 ms to 2 s, each spread by ±50 % so processes do not retry in step. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(50 * 2 ** Math.max(0, attempt - 1), 2000);
  return Math.round(base * (0.5 + Math.random()));
}

/** Attempts at start-up before giving up with an error naming the broker. */
export const STARTUP_ATTEMPTS = 3;

/**
 * Logs a broker connection's losses and returns once each (not every failed publish), in the
 * words the Redis and Postgres queues use, and knows whether the connection is up.
 */
export class BrokerConnectionState {
  up = true;
  private warnedDrop = false;

  constructor(
    private readonly endpoint: QueueEndpoint,
    private readonly logger: LoggerService,
    private readonly onState?: QueueStateListener,
  ) {}

  lost(reason: unknown): void {
    if (!this.up) return;
    this.up = false;
    this.onState?.('down', this.endpoint.label, 'broker', this.describe(reason));
    this.logger.error(
      `Message queue: lost the connection to ${this.endpoint.label}: ${this.describe(reason)}. Local clients are still served; retrying.`,
    );
  }

  restored(): void {
    if (this.up) return;
    this.up = true;
    this.warnedDrop = false;
    this.onState?.('up', this.endpoint.label, 'broker');
    this.logger.log(`Message queue: connected to ${this.endpoint.label} again`);
  }

  /** Throws while the broker is unreachable: the adapter then delivers to local clients only. */
  check(): void {
    if (!this.up) throw new Error(`${this.endpoint.label} is unreachable`);
  }

  /** An emitter-only worker's publish that failed: said once per outage. */
  dropped(err: unknown): void {
    if (this.warnedDrop) return;
    this.warnedDrop = true;
    this.logger.warn?.(
      `Message queue: a message to ${this.endpoint.label} was dropped: ${this.describe(err)}`,
    );
  }

  describe(reason: unknown): string {
    return queueErrorText(reason ?? '', this.endpoint) || 'connection closed';
  }

  /** The start-up error: names the broker, never the URL's password. */
  unreachable(err: unknown): Error {
    return unreachableQueueError(this.endpoint, err);
  }
}

/** The cluster of a server process over a broker (see BrokerCluster), or undefined for a worker. */
export async function brokerCluster(
  endpoint: QueueEndpoint,
  emitterOnly: boolean,
  logger: LoggerService,
): Promise<BrokerCluster | undefined> {
  if (emitterOnly) return undefined;
  const { ClusterAdapterWithHeartbeat } = await loadOptional<typeof import('socket.io-adapter')>(
    'socket.io-adapter',
    `messageQueue (${endpoint.type})`,
  );
  const { heartbeatInterval, heartbeatTimeout } = endpoint.adapterOptions as {
    heartbeatInterval?: number;
    heartbeatTimeout?: number;
  };
  return new BrokerCluster(
    ClusterAdapterWithHeartbeat as never,
    { heartbeatInterval, heartbeatTimeout },
    logger,
  );
}

/**
 * The `MessageQueue` over a connected broker: a cluster adapter for servers, or cluster-protocol
 * emitters for an emitter-only worker (`flush` resolves once the broker has what was published).
 */
export function brokerQueue(
  cluster: BrokerCluster | undefined,
  link: BrokerLink,
  state: BrokerConnectionState,
  flush: () => Promise<void>,
  close: () => Promise<void>,
): MessageQueue {
  if (!cluster) {
    const processId = newProcessId();
    const publish = (message: Record<string, unknown>) => {
      try {
        state.check();
        const sent = link.publish(encodeMessage(processId, message));
        if (sent) sent.catch((err: unknown) => state.dropped(err));
      } catch (err) {
        state.dropped(err);
      }
    };
    return emitterQueue(
      (namespace) => new ClusterEmitter(namespace, publish),
      async () => {
        state.check();
        await flush();
      },
      close,
    );
  }
  cluster.attach({
    publish: (payload) => {
      state.check();
      return link.publish(payload);
    },
    publishTo: (processId, payload) => {
      state.check();
      return link.publishTo(processId, payload);
    },
  });
  return {
    ...clusterQueue(cluster.adapter, close, async () => state.check()),
    joined: () => cluster.joined(),
  };
}

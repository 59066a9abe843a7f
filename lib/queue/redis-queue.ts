import type { LoggerService } from '@nestjs/common';
import type { BroadcastOperator } from '../interfaces/broadcast-operator.interface.js';
import { loadOptional } from '../load-optional.js';
import { clusterQueue } from './cluster-clients.js';
import { emitterQueue } from './emitter-clients.js';
import type {
  MessageQueue,
  MessageQueueSettings,
  QueueStateListener,
} from './message-queue.interface.js';
import { queueErrorText, unreachableQueueError, type QueueEndpoint } from './queue-endpoint.js';

/** The part of a node-redis client this file uses. */
interface RedisClient {
  connect(): Promise<unknown>;
  duplicate(overrides?: Record<string, unknown>): RedisClient;
  close(): Promise<void>;
  destroy(): void;
  ping(): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  [command: string]: any;
}

interface RedisModule {
  createClient(options: Record<string, unknown>): RedisClient;
}

/** How long the streams adapter's read blocks (its default is 5 s), hence how long a close can take. */
const STREAM_BLOCK_MS = 1000;

/** Attempts at start-up before giving up with an error naming the server. */
const STARTUP_ATTEMPTS = 3;

/** Builds the Redis message queue: pub/sub, sharded pub/sub or streams, or a worker's emitter. */
export async function createRedisQueue(
  endpoint: QueueEndpoint,
  { channel, emitterOnly, logger, onState }: MessageQueueSettings,
): Promise<MessageQueue> {
  if (emitterOnly && endpoint.type !== 'redis') {
    throw new Error(
      `SocketIOModule: emitterOnly: true works with the 'redis' and 'postgres' message queues; '${endpoint.type}' has no emitter`,
    );
  }
  const redis = await loadOptional<RedisModule>('redis', `messageQueue (${endpoint.type})`);
  const clients: RedisClient[] = [];
  const close = async () => {
    await Promise.allSettled(clients.map((c) => closeClient(c)));
  };
  try {
    const pub = await connectClient(redis, endpoint, logger, 'publisher', onState);
    clients.push(pub);
    if (emitterOnly) return await redisEmitterQueue(pub, endpoint, channel, logger, close);
    const options = endpoint.adapterOptions;
    if (endpoint.type === 'redis-streams') {
      const { createAdapter } = await loadOptional<any>(
        '@socket.io/redis-streams-adapter',
        'messageQueue (redis-streams)',
      );
      // The adapter reads the stream on connections of its own (duplicates of ours) that close
      // only when their blocking read returns: a short block keeps app.close() quick.
      const duplicates: RedisClient[] = [];
      const adapter = createAdapter(guarded(pub, endpoint, logger, duplicates), {
        streamName: channel,
        channelPrefix: channel,
        blockTimeInMs: STREAM_BLOCK_MS,
        ...options,
      });
      const blockMs = Number(options.blockTimeInMs ?? STREAM_BLOCK_MS);
      return clusterQueue(
        adapter,
        async () => {
          await Promise.all(duplicates.map((d) => untilClosed(d, blockMs + 1000)));
          await close();
        },
        () => probeClients([pub]),
      );
    }
    const sub = await connectClient(redis, endpoint, logger, 'subscriber', onState);
    clients.push(sub);
    const pkg = await loadOptional<any>(
      '@socket.io/redis-adapter',
      `messageQueue (${endpoint.type})`,
    );
    const safePub = guarded(pub, endpoint, logger);
    const safeSub = guarded(sub, endpoint, logger);
    const adapter =
      endpoint.type === 'redis-sharded'
        ? pkg.createShardedAdapter(safePub, safeSub, { channelPrefix: channel, ...options })
        : pkg.createAdapter(safePub, safeSub, { key: channel, ...options });
    return clusterQueue(adapter, close, () => probeClients([pub, sub]));
  } catch (err) {
    await close();
    throw err;
  }
}

async function redisEmitterQueue(
  client: RedisClient,
  endpoint: QueueEndpoint,
  channel: string,
  logger: LoggerService,
  close: () => Promise<void>,
): Promise<MessageQueue> {
  const { Emitter } = await loadOptional<any>('@socket.io/redis-emitter', 'emitterOnly: true');
  return emitterQueue(
    (namespace) =>
      new Emitter(
        guarded(client, endpoint, logger),
        { key: channel, ...endpoint.adapterOptions },
        namespace,
      ) as BroadcastOperator,
    // Commands run in order on one connection: a PING answered means every publish before it was.
    async () => {
      await client.ping();
    },
    close,
  );
}

const PROBE_MS = 2000;

/** Every connection is up, and the server answers a PING within a moment. */
async function probeClients(clients: RedisClient[]): Promise<void> {
  for (const client of clients) {
    if (!client.isReady) throw new Error('not connected (reconnecting)');
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer to PING within ${PROBE_MS} ms`)),
      PROBE_MS,
    );
  });
  try {
    await Promise.race([clients[0].ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Milliseconds before reconnection attempt `retries`: an exponential backoff (50 ms doubling, at
 * most 2 s) of which a random half is taken off, so the processes of a fleet that lost Redis
 * together do not reconnect in lock-step.
 */
export function reconnectDelay(retries: number, random: () => number = Math.random): number {
  const ceiling = Math.min(50 * 2 ** retries, 2000);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Connects a client that fails fast at start-up (naming the server, never the password) and,
 * once connected, survives outages: it logs the loss, reconnects with a backoff and logs the return.
 */
async function connectClient(
  redis: RedisModule,
  endpoint: QueueEndpoint,
  logger: LoggerService,
  role: string,
  onState?: QueueStateListener,
): Promise<RedisClient> {
  let ready = false;
  let lost = false;
  let lastError: unknown;
  const client = redis.createClient({
    url: endpoint.url,
    // During an outage a command fails at once instead of waiting: a cluster adapter delivers a
    // broadcast to local clients only after its publish settles, and nothing piles up in memory.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number, cause: Error) => {
        if (!ready && retries >= STARTUP_ATTEMPTS - 1) return cause;
        return reconnectDelay(retries);
      },
    },
  });
  client.on('error', (err: Error) => {
    lastError = err;
    if (!ready || lost) return;
    lost = true;
    const reason = queueErrorText(err, endpoint);
    logger.error(
      `Message queue: lost the connection to ${endpoint.label} (${role}): ${reason}. Local clients are still served; retrying.`,
    );
    onState?.('down', endpoint.label, role, reason);
  });
  client.on('ready', () => {
    if (lost) {
      logger.log(`Message queue: connected to ${endpoint.label} again (${role})`);
      onState?.('up', endpoint.label, role);
    }
    ready = true;
    lost = false;
  });
  try {
    await client.connect();
  } catch (err) {
    client.destroy?.();
    const reason = (err as Error)?.message === undefined ? (lastError ?? err) : err;
    throw unreachableQueueError(endpoint, reason);
  }
  return client;
}

/** Commands whose promise the adapters drop on the floor. */
const UNAWAITED = new Set(
  [
    'publish',
    'sPublish',
    'spublish',
    'subscribe',
    'sSubscribe',
    'ssubscribe',
    'pSubscribe',
    'psubscribe',
    'unsubscribe',
    'sUnsubscribe',
    'sunsubscribe',
    'pUnsubscribe',
    'punsubscribe',
  ].flatMap((name) => [name, name.toUpperCase()]),
);

/** Rejections of commands that fail only because the client is being closed. */
const CLOSING = new Set(['DisconnectsClientError', 'ClientClosedError']);

/**
 * The adapters publish and subscribe without handling the returned promise: one that fails
 * during an outage, or while the app closes, would be an unhandled rejection. This view of the
 * client catches them (and logs real failures); its duplicates, when `duplicates` is given, are
 * guarded the same way and remembered so that closing can wait for them.
 */
function guarded(
  client: RedisClient,
  endpoint: QueueEndpoint,
  logger: LoggerService,
  duplicates?: RedisClient[],
): RedisClient {
  return new Proxy(client, {
    get(target, key, receiver) {
      if (key === 'duplicate' && duplicates) {
        return () => {
          // The streams adapter loops on its blocking reads: those must wait out an outage.
          const copy = target.duplicate({ disableOfflineQueue: false });
          duplicates.push(copy);
          return guarded(copy, endpoint, logger);
        };
      }
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      if (typeof key !== 'string' || !UNAWAITED.has(key)) return value.bind(target);
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (result && typeof (result as Promise<unknown>).catch === 'function') {
          (result as Promise<unknown>).catch((err: Error) => {
            // While the connection is down the loss is logged once, not every publish.
            if (!target.isReady) return;
            if (CLOSING.has(err?.name) || CLOSING.has(err?.constructor?.name)) return;
            logger.warn?.(
              `Message queue: ${key} on ${endpoint.label} failed: ${queueErrorText(err, endpoint)}`,
            );
          });
        }
        return result;
      };
    },
  });
}

async function closeClient(client: RedisClient): Promise<void> {
  if (!client.isOpen || !client.isReady) {
    client.destroy?.();
    return;
  }
  try {
    await client.close();
  } catch {
    client.destroy?.();
  }
}

/** Resolves when the client's connection is closed, or after `timeoutMs`. */
async function untilClosed(client: RedisClient, timeoutMs: number): Promise<void> {
  if (!client.isOpen) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    client.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

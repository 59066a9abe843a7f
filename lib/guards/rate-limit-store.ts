import type { LoggerService } from '@nestjs/common';
import { loadOptional } from '../load-optional.js';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import { queueEndpoint, queueErrorText, type QueueEndpoint } from '../queue/queue-endpoint.js';
import { messageQueueKind } from '../queue/queue-kinds.js';
import { reconnectDelay } from '../queue/redis-queue.js';
import { DEFAULT_CHANNEL } from '../socket-io.constants.js';

/** The part of a node-redis client the shared count uses. */
interface RedisClient {
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  readonly isReady: boolean;
}

// One round trip, atomic: the first point of a window also sets the window's expiry.
const SPEND = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** The Redis kinds of `messageQueue`, which `rateLimit.store: 'messageQueue'` can count in. */
export const REDIS_QUEUE_TYPES: readonly string[] = ['redis', 'redis-sharded', 'redis-streams'];

/**
 * `rateLimit.store: 'messageQueue'`: the points of a key are counted in the message queue's
 * Redis, so every process of the app shares them. As in a process, a key's window starts with its
 * first point and lasts `duration` ms (the Redis key expires then), whichever process spent it. While the
 * Redis cannot answer, `spend` returns undefined and the caller counts in the process (logged once
 * per outage).
 */
export class SharedRateCount {
  private client?: RedisClient;
  private down = false;

  private constructor(
    private readonly endpoint: QueueEndpoint,
    private readonly prefix: string,
    private readonly logger: LoggerService,
  ) {}

  /** The shared count of the options' message queue, connected (or failing over, logged). */
  static async connect(
    options: SocketIOModuleOptions,
    logger: LoggerService,
  ): Promise<SharedRateCount> {
    const kind = messageQueueKind(options.messageQueue!)!;
    const endpoint = queueEndpoint(options.messageQueue!, kind);
    const channel = options.channel ?? DEFAULT_CHANNEL;
    const count = new SharedRateCount(endpoint, `${channel}#rate-limit#`, logger);
    await count.open();
    return count;
  }

  private async open(): Promise<void> {
    const redis = await loadOptional<{ createClient(o: object): RedisClient }>(
      'redis',
      "rateLimit.store: 'messageQueue'",
    );
    const client = redis.createClient({
      url: this.endpoint.url,
      // During an outage a command fails at once: the limit falls back to this process's count.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 5000,
        reconnectStrategy: (retries: number) => reconnectDelay(retries),
      },
    });
    client.on('error', (err: Error) => this.lost(err));
    client.on('ready', () => {
      if (this.down) this.logger.log(`Rate limit: counting in ${this.endpoint.label} again`);
      this.down = false;
    });
    this.client = client;
    // Reconnection never gives up, so connect() may wait for ever: start-up waits 5 s at most,
    // and counts in the process until the Redis answers.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.connect().catch((err: unknown) => this.lost(err)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000).unref())),
    ]);
    clearTimeout(timer);
  }

  /** Spends a point of `key` in the shared window: whether one was left, or undefined if Redis cannot answer. */
  async spend(key: string, points: number, duration: number): Promise<boolean | undefined> {
    const client = this.client;
    if (!client?.isReady) return undefined;
    try {
      const n = await client.eval(SPEND, {
        keys: [`${this.prefix}${key}`],
        arguments: [String(duration)],
      });
      return Number(n) <= points;
    } catch (err) {
      this.lost(err);
      return undefined;
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await client.close().catch(() => client.destroy());
  }

  private lost(err: unknown): void {
    if (this.down || !this.client) return;
    this.down = true;
    this.logger.warn?.(
      `Rate limit: ${this.endpoint.label} cannot be reached (${queueErrorText(err, this.endpoint)}); each process counts on its own until it is back.`,
    );
  }
}

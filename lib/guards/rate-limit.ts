import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Event, Namespace, Socket } from 'socket.io';
import { SocketError } from '../errors/error-reply.js';
import { ConnectionRefusedError } from '../errors/connection-refused.error.js';
import { SocketErrors } from '../errors/socket-errors.js';
import { SocketObservability } from '../observability/socket-observability.js';
import type { RateLimitOptions } from '../interfaces/socket-io-module-options.interface.js';
import { SocketIOConfig } from '../socket-io.config.js';
import { SharedRateCount } from './rate-limit-store.js';

/** What one key (an address, by default) has spent in the current window. */
interface Window {
  start: number;
  count: number;
}

const TOO_MANY = 'Too Many Requests';

/** The default key: the client's address, which reconnecting does not change. */
const byAddress = (socket: Socket): string => socket.handshake.address;

/** Calls `then` with a value, at once when it is one, once it resolves when it is a promise. */
function settled<T>(value: T | Promise<T>, then: (v: T) => void): void {
  if (value instanceof Promise) void value.then(then);
  else then(value);
}

/**
 * The `rateLimit` option: a fixed window of `points` per `duration` ms for each key (the
 * client's address unless `key(socket)` says otherwise), shared by all connections with that
 * key, so reconnecting does not reset it. Each connection attempt (CONNECT packet) and each
 * incoming event costs a point. It runs as socket.io middleware: the dispatch path is untouched
 * when the option is off, and costs one Map lookup per event when it is on (one Redis round trip
 * with `store: 'messageQueue'`).
 */
@Injectable()
export class RateLimit implements OnModuleInit, OnModuleDestroy {
  private readonly windows = new Map<string, Window>();
  /** The `rateLimit` option; without it nothing is installed. */
  private readonly options: RateLimitOptions;
  private readonly enabled: boolean;
  private readonly keyOf: (socket: Socket) => string;
  /** Windows kept after the last sweep of stale ones: the next sweep waits for twice as many. */
  private sweepAt = 1024;
  /** `store: 'messageQueue'`: the count every process shares. */
  private shared?: SharedRateCount;

  constructor(
    @Inject(SocketIOConfig) private readonly config: SocketIOConfig,
    @Inject(SocketErrors) private readonly errors: SocketErrors,
    @Inject(SocketObservability) private readonly observability: SocketObservability,
  ) {
    const { rateLimit } = config.options;
    this.enabled = rateLimit !== undefined;
    this.options = rateLimit ?? { points: Infinity, duration: Infinity };
    this.keyOf = this.options.key ?? byAddress;
  }

  async onModuleInit(): Promise<void> {
    if (this.enabled && this.options.store === 'messageQueue') {
      this.shared = await SharedRateCount.connect(this.config.options, this.config.logger);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.shared?.close();
  }

  /** Limits every client that connects to this namespace from now on (with the option set). */
  install(nsp: Namespace): void {
    if (!this.enabled) return;
    nsp.use((socket, next) =>
      settled(this.take(this.keyOf(socket)), (ok) => {
        if (ok) return next();
        // Reported (log, channel, metric) as every other refusal is.
        const refusal = new ConnectionRefusedError(TOO_MANY);
        this.observability.refused(socket, refusal);
        next(refusal);
      }),
    );
    nsp.on('connection', (socket: Socket) => this.watch(socket));
  }

  /** Spends a point of `key` where the option counts (shared, or in this process). */
  private take(key: string): boolean | Promise<boolean> {
    if (!this.shared) return this.spend(key);
    const { points, duration } = this.options;
    return this.shared.spend(key, points, duration).then((ok) => ok ?? this.spend(key));
  }

  /** Spends a point of `key` in this process; false when its window has none left. */
  private spend(key: string): boolean {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.options.duration) {
      if (!window && this.windows.size >= this.sweepAt) this.sweep(now);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    return ++window.count <= this.options.points;
  }

  /** Drops the windows that have passed (amortised: runs when the map has doubled). */
  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.options.duration) this.windows.delete(key);
    }
    this.sweepAt = Math.max(1024, this.windows.size * 2);
  }

  private watch(socket: Socket): void {
    const { disconnectAfter } = this.options;
    const key = this.keyOf(socket);
    let strikes = 0;
    const limit = (packet: Event, next: (err?: Error) => void, ok: boolean) => {
      if (ok) {
        strikes = 0;
        return next();
      }
      // The packet goes no further: no handler runs, and the client learns why.
      const last = packet[packet.length - 1];
      const ack = typeof last === 'function' ? (last as (reply: unknown) => void) : undefined;
      // `limit` tells the observability hooks (logs, channels, metrics) what happened.
      const refusal = Object.assign(new SocketError(429, TOO_MANY), { limit: 'rate' });
      const answered = this.errors.respond(refusal, socket, ack, String(packet[0]));
      if (disconnectAfter !== undefined && ++strikes >= disconnectAfter) {
        // After the 429 and the answers already under way have been sent, not before.
        void answered.finally(() => setImmediate(() => socket.disconnect(true)));
      }
    };
    socket.use((packet, next) => settled(this.take(key), (ok) => limit(packet, next, ok)));
  }
}

import type { Namespace, Socket } from 'socket.io';
import { SocketError } from '../errors/error-reply.js';
import type { SocketErrorResponder } from '../errors/socket-exception.filter.js';
import type { RateLimitOptions } from '../interfaces/socket-io-module-options.interface.js';

/** Events one connection has sent in the current window, and its refusals in a row. */
interface Window {
  start: number;
  count: number;
  strikes: number;
}

/**
 * The `rateLimit` option: a fixed window of `points` events per `duration` ms for each
 * connection. It runs as a socket.io packet middleware, once per incoming event (not once per
 * handler), so the dispatch path is untouched when the option is off.
 */
export class RateLimit {
  constructor(
    private readonly options: RateLimitOptions,
    private readonly errors: SocketErrorResponder,
  ) {}

  /** Limits every client that connects to this namespace from now on. */
  install(nsp: Namespace): void {
    nsp.on('connection', (socket: Socket) => this.watch(socket));
  }

  private watch(socket: Socket): void {
    const { points, duration, disconnectAfter } = this.options;
    const window: Window = { start: Date.now(), count: 0, strikes: 0 };
    socket.use((packet, next) => {
      const now = Date.now();
      if (now - window.start >= duration) {
        window.start = now;
        window.count = 0;
      }
      if (++window.count <= points) {
        window.strikes = 0;
        return next();
      }
      // The packet goes no further: no handler runs, and the client learns why.
      const last = packet[packet.length - 1];
      const ack = typeof last === 'function' ? (last as (reply: unknown) => void) : undefined;
      const refusal = Object.assign(new SocketError(429, 'Too Many Requests'), { limit: 'rate' });
      const answered = this.errors.respond(refusal, socket, ack, String(packet[0]));
      if (disconnectAfter !== undefined && ++window.strikes >= disconnectAfter) {
        // After the 429 and the answers already under way have been sent, not before.
        void answered.finally(() => setImmediate(() => socket.disconnect(true)));
      }
    });
  }
}

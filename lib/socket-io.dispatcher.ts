import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable } from 'rxjs';
import type { Socket } from 'socket.io';
import { SocketCallFrame, type SocketContextStorage } from './socket-context.storage.js';
import type { SocketErrors } from './errors/socket-errors.js';
import type { HandlerTimeout } from './errors/handler-timeout.js';
import type { FastHandler } from './socket-io.fast-handlers.js';
import type { SocketObservability } from './observability/socket-observability.js';

type Ack = (...args: unknown[]) => void;
/** Nest's callback for a handler: guards, interceptors, pipes and filters around the method. */
export type NestCallback = MessageMappingProperties['callback'];

/**
 * Runs one event's handler and answers the client: the return value becomes the ack (or an
 * emit, for `{ event, data }`), an error becomes the error reply. No rxjs unless the handler
 * itself returns an Observable. Counts the handlers in flight for a graceful shutdown.
 */
export class EventDispatcher {
  private busy = 0;
  private idle?: () => void;
  private draining?: Promise<void>;

  constructor(
    private readonly storage: SocketContextStorage,
    private readonly errors: SocketErrors,
    private readonly timeLimit: HandlerTimeout | undefined,
    private readonly observe: SocketObservability,
  ) {}

  dispatch(
    socket: Socket,
    event: string,
    callback: NestCallback | undefined,
    fast: FastHandler | undefined,
    args: unknown[],
    manual: boolean,
  ): void {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (args.pop() as Ack) : undefined;
    // Several arguments reach the handler as an array, one as itself (Nest's convention).
    const data = args.length > 1 ? args : args[0];
    const frame = new SocketCallFrame(socket, event, args);
    const storage = this.storage;
    // Undefined unless a diagnostics_channel subscriber or an OpenTelemetry SDK listens.
    const seen = this.observe.event(socket, event, args, frame);
    let pending: unknown;
    try {
      pending = seen
        ? seen.run(() => this.invoke(socket, event, callback, fast, data, ack, frame))
        : this.invoke(socket, event, callback, fast, data, ack, frame);
    } catch (err) {
      // Only a direct call throws here (Nest's chain is async); error handlers see the client.
      storage.run(frame, () => void this.errors.respond(err, socket, ack));
      return;
    }
    if (pending instanceof Promise) {
      const settled = this.timeLimit ? this.timeLimit.race(pending) : pending;
      this.busy++;
      settled.then(
        // Interceptors run when the Observable is subscribed: keep the frame for them.
        (result) => {
          this.settled();
          seen?.done(result);
          if (isObservable(result))
            storage.run(frame, () => this.reply(socket, result, ack, manual));
          else this.reply(socket, result, ack, manual);
        },
        (err) => {
          this.settled();
          seen?.fail(err);
          storage.run(frame, () => void this.errors.respond(err, socket, ack));
        },
      );
    } else if (typeof pending === 'object' && pending !== null && isObservable(pending)) {
      storage.run(frame, () => this.reply(socket, pending, ack, manual));
    } else {
      this.reply(socket, pending, ack, manual);
    }
  }

  private invoke(
    socket: Socket,
    event: string,
    callback: NestCallback | undefined,
    fast: FastHandler | undefined,
    data: unknown,
    ack: Ack | undefined,
    frame: SocketCallFrame,
  ): unknown {
    // The event name and the frame follow the ack, for @EventName() and @SocketSession().
    return fast
      ? this.storage.run(frame, () => fast(socket, data, ack, event, frame))
      : this.storage.run(frame, () => (callback as Function)(data, ack, event, frame));
  }

  /** Resolves once no handler is in flight, or after `grace` ms. */
  handlersDone(grace: number): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return (this.draining ??= new Promise<void>((resolve) => {
      const timer = setTimeout(done, grace);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.idle = done;
    }));
  }

  private settled(): void {
    if (--this.busy === 0) this.idle?.();
  }

  private reply(socket: Socket, result: unknown, ack: Ack | undefined, manual: boolean): void {
    if (result === undefined || result === null) return;
    if (isObservable(result)) {
      let first = true;
      const subscription = result.subscribe({
        next: (value) => {
          if (!first) return;
          first = false;
          this.reply(socket, value, ack, manual);
          queueMicrotask(() => subscription?.unsubscribe());
        },
        error: (err) => void this.errors.respond(err, socket, ack),
      });
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value) => this.reply(socket, value, ack, manual),
        (err) => void this.errors.respond(err, socket, ack),
      );
      return;
    }
    const response = result as { event?: unknown; data?: unknown };
    try {
      if (typeof response === 'object' && response.event) {
        socket.emit(String(response.event), response.data);
        return;
      }
      if (!manual && ack) ack(result);
    } catch (err) {
      // A value the parser cannot encode (a cycle): an error reply, not an unhandled rejection.
      void this.errors.respond(err, socket, ack);
    }
  }
}

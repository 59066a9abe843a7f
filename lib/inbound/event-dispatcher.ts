import { Inject, Injectable } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable, type Observable } from 'rxjs';
import type { Socket } from 'socket.io';
import { SocketCallFrame, SocketContextStorage } from '../context/socket-context.storage.js';
import { SocketErrors } from '../errors/socket-errors.js';
import { HandlerTimeout } from '../errors/handler-timeout.js';
import { SocketIOConfig } from '../socket-io.config.js';
import type { DirectHandler } from './direct-handlers.js';

type Ack = (...args: unknown[]) => void;
/** Nest's callback for a handler: guards, interceptors, pipes and filters around the method. */
type NestCallback = MessageMappingProperties['callback'];

/** One event being answered: its client, its frame, and how the client wants the answer. */
interface Call {
  readonly socket: Socket;
  readonly frame: SocketCallFrame;
  readonly ack: Ack | undefined;
  /** `@Ack()`: the handler acks by hand, its return value is not an ack. */
  readonly manual: boolean;
}

/**
 * Runs one event's handler and answers the client. Whatever the handler gives (a value, a
 * promise, an Observable, or a throw) is settled in one place, `settle`, which hands it once to
 * the ack (or an emit, for `{ event, data }`) or to the error responder. No rxjs unless the
 * handler itself returns an Observable. Counts the handlers in flight for a graceful shutdown.
 */
@Injectable()
export class EventDispatcher {
  private readonly timeLimit?: HandlerTimeout;
  private busy = 0;
  private idle?: () => void;
  private draining?: Promise<void>;

  constructor(
    @Inject(SocketContextStorage) private readonly storage: SocketContextStorage,
    @Inject(SocketErrors) private readonly errors: SocketErrors,
    @Inject(SocketIOConfig) config: SocketIOConfig,
  ) {
    const { handlerTimeout } = config.options;
    if (handlerTimeout) this.timeLimit = new HandlerTimeout(handlerTimeout);
  }

  dispatch(
    socket: Socket,
    event: string,
    callback: NestCallback | undefined,
    direct: DirectHandler | undefined,
    args: unknown[],
    manual: boolean,
  ): void {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (args.pop() as Ack) : undefined;
    // Several arguments reach the handler as an array, one as itself (Nest's convention).
    const data = args.length > 1 ? args : args[0];
    const frame = new SocketCallFrame(socket, event, args);
    const call: Call = { socket, frame, ack, manual };
    let result: unknown;
    try {
      // The event name and the frame follow the ack, for @EventName() and @SocketSession().
      result = direct
        ? this.storage.run(frame, () => direct(socket, data, ack, event, frame))
        : this.storage.run(frame, () => (callback as Function)(data, ack, event, frame));
    } catch (err) {
      // Only a direct call throws here (Nest's chain is async).
      this.fail(call, err);
      return;
    }
    this.settle(call, result, true);
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

  /**
   * The one place a handler's result is settled: a promise is awaited (within the time limit, for
   * the handler's own), an Observable gives its first value, and the value that comes out is the
   * answer; a rejection or an Observable's error is the error reply.
   */
  private settle(call: Call, result: unknown, fromHandler = false): void {
    if (result instanceof Promise) {
      const limited = fromHandler && this.timeLimit ? this.timeLimit.race(result) : result;
      this.busy++;
      limited.then(
        (value) => {
          this.finished();
          this.settle(call, value);
        },
        (err) => {
          this.finished();
          this.fail(call, err);
        },
      );
      return;
    }
    if (typeof result === 'object' && result !== null && isObservable(result)) {
      // Interceptors run when the Observable is subscribed: keep the frame for them.
      this.storage.run(call.frame, () => this.firstValue(call, result));
      return;
    }
    this.answer(call, result);
  }

  private firstValue(call: Call, result: Observable<unknown>): void {
    let first = true;
    const subscription = result.subscribe({
      next: (value) => {
        if (!first) return;
        first = false;
        this.settle(call, value);
        queueMicrotask(() => subscription?.unsubscribe());
      },
      error: (err) => this.fail(call, err),
    });
  }

  private answer(call: Call, value: unknown): void {
    if (value === undefined || value === null) return;
    const response = value as { event?: unknown; data?: unknown };
    try {
      if (typeof response === 'object' && response.event) {
        call.socket.emit(String(response.event), response.data);
        return;
      }
      if (!call.manual && call.ack) call.ack(value);
    } catch (err) {
      // A value the parser cannot encode (a cycle): an error reply, not an unhandled rejection.
      this.fail(call, err);
    }
  }

  /** Error handlers see the client whose event failed. */
  private fail(call: Call, err: unknown): void {
    this.storage.run(call.frame, () => void this.errors.respond(err, call.socket, call.ack));
  }

  private finished(): void {
    if (--this.busy === 0) this.idle?.();
  }
}

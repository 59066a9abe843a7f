import { Inject, Injectable } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { isObservable, type Observable, type Subscription } from 'rxjs';
import type { Socket } from 'socket.io';
import { SocketCallFrame, SocketContextStorage } from '../context/socket-context.storage.js';
import { SocketErrors } from '../errors/socket-errors.js';
import { HandlerTimeout } from '../errors/handler-timeout.js';
import { SocketIOConfig } from '../socket-io.config.js';
import type { DirectHandler } from './direct-handlers.js';
import {
  loadSession,
  saveSession,
  sessionSourceOf,
  type SessionSource,
} from '../session/session-source.js';
import { SocketObservability } from '../observability/socket-observability.js';
import type { EventObservation } from '../observability/event-observation.js';

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
  /** Undefined unless a diagnostics_channel subscriber or an OpenTelemetry SDK listens. */
  readonly seen: EventObservation | undefined;
  /** `manageSession: false`: the session read for this event, saved before the answer. */
  session?: EventSession;
}

/** The store session of one event, and the socket's turn it holds until the answer. */
interface EventSession {
  readonly saveable: boolean;
  readonly before: string;
  readonly release: () => void;
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
    @Inject(SocketObservability) private readonly observe: SocketObservability,
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
    const seen = this.observe.event(socket, event, args, frame);
    const call: Call = { socket, frame, ack, manual, seen };
    const source = sessionSourceOf(socket);
    // No closure unless the event waits for its session.
    if (source) this.withSession(source, call, () => this.run(call, data, callback, direct, event));
    else this.run(call, data, callback, direct, event);
  }

  private run(
    call: Call,
    data: unknown,
    callback: NestCallback | undefined,
    direct: DirectHandler | undefined,
    event: string,
  ): void {
    const { socket, frame, ack, seen } = call;
    let result: unknown;
    try {
      result = seen
        ? seen.run(() => this.invoke(socket, event, callback, direct, data, ack, frame))
        : this.invoke(socket, event, callback, direct, data, ack, frame);
    } catch (err) {
      // Only a direct call throws here (Nest's chain is async).
      this.fail(call, err);
      return;
    }
    this.settle(call, result, true);
  }

  private invoke(
    socket: Socket,
    event: string,
    callback: NestCallback | undefined,
    direct: DirectHandler | undefined,
    data: unknown,
    ack: Ack | undefined,
    frame: SocketCallFrame,
  ): unknown {
    // The event name and the frame follow the ack, for @EventName() and @SocketSession().
    return direct
      ? this.storage.run(frame, () => direct(socket, data, ack, event, frame))
      : this.storage.run(frame, () => (callback as Function)(data, ack, event, frame));
  }

  /**
   * `manageSession: false`: reads the session afresh from the store before anything of Nest's
   * chain runs, so global and gateway guards and interceptors see it as saved now, not as it was
   * at connect. One event of a socket at a time reads, changes and saves (concurrent ones lose no
   * update); the turn ends with the answer, a refusal or an error.
   */
  private withSession(source: SessionSource, call: Call, run: () => void): void {
    const previous = source.turn;
    let release!: () => void;
    source.turn = new Promise<void>((resolve) => (release = resolve));
    // An event waiting for its session is in flight too: a graceful shutdown waits for it.
    this.busy++;
    previous
      .then(() => loadSession(source))
      .then(
        ({ session, saveable }) => {
          call.frame.session = session;
          call.session = { saveable, before: JSON.stringify(session), release };
          run();
        },
        (err) => {
          release();
          this.fail(call, err);
        },
      )
      // After run(): a handler that returned a promise is counted by then.
      .finally(() => this.finished());
  }

  /** Saves a session the handler changed, then ends the socket's turn. */
  private saveThen(call: Call, session: EventSession, next: () => void): void {
    const now = call.frame.session;
    if (!session.saveable || !now || call.frame.failed || JSON.stringify(now) === session.before) {
      session.release();
      return next();
    }
    saveSession(now).then(
      () => {
        session.release();
        next();
      },
      (err) => {
        session.release();
        this.fail(call, err);
      },
    );
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
    let emittedDuringSubscribe = false;
    // Unassigned while a synchronous Observable emits inside subscribe().
    let subscription: Subscription | undefined = undefined;
    subscription = result.subscribe({
      next: (value) => {
        if (!first) return;
        first = false;
        this.settle(call, value);
        // The rest is not wanted: unsubscribe once the current emission is over.
        const current = subscription;
        if (current) queueMicrotask(() => current.unsubscribe());
        else emittedDuringSubscribe = true;
      },
      error: (err) => this.fail(call, err),
      // No value at all (a guard or interceptor gave none): the session's turn still ends.
      complete: () => {
        if (first) this.endTurn(call);
      },
    });
    // A synchronous Observable (an interceptor over a synchronous handler) has usually completed
    // by now: no microtask for it.
    const done = subscription;
    if (emittedDuringSubscribe && !done.closed) queueMicrotask(() => done.unsubscribe());
  }

  private answer(call: Call, value: unknown): void {
    const session = call.session;
    if (session) {
      call.session = undefined;
      return this.saveThen(call, session, () => this.answer(call, value));
    }
    if (value !== undefined && value !== null) {
      const response = value as { event?: unknown; data?: unknown };
      try {
        if (typeof response === 'object' && response.event) {
          call.socket.emit(String(response.event), response.data);
        } else if (!call.manual && call.ack) call.ack(value);
      } catch (err) {
        // A value the parser cannot encode (a cycle): an error reply, not an unhandled rejection.
        this.fail(call, err);
        return;
      }
    }
    call.seen?.done(value);
  }

  /** Error handlers see the client whose event failed. */
  private fail(call: Call, err: unknown): void {
    this.endTurn(call);
    call.seen?.fail(err);
    this.storage.run(call.frame, () => void this.errors.respond(err, call.socket, call.ack));
  }

  /** Ends the session turn of an event that gives no answer to save before (no save). */
  private endTurn(call: Call): void {
    call.session?.release();
    call.session = undefined;
  }

  private finished(): void {
    if (--this.busy === 0) this.idle?.();
  }
}

import { isObservable } from 'rxjs';
import type { Socket } from 'socket.io';
import { toErrorReply } from '../errors/error-reply.js';
import { eventChannel, type SocketEventMessage, type SocketEventOutcome } from './diagnostics.js';
import type { OtelEvent, OtelRecorder } from './otel.js';

/**
 * One handled event while it runs, for whoever listens: the tracing channel's context object
 * (when it has subscribers) and the OpenTelemetry span and clock (when an SDK is registered).
 * Exists only when one of them does. Mirrors Node's `tracePromise`: start (with the channel's
 * bound stores around the handler), end when the handler returns, asyncStart and asyncEnd when
 * its promise settles, error when it fails.
 */
export class EventObservation {
  private finished = false;
  private async = false;
  private markedStatus?: number;
  private markedError?: unknown;

  constructor(
    private readonly message: SocketEventMessage | undefined,
    private readonly otel: OtelRecorder | undefined,
    private readonly otelEvent: OtelEvent | undefined,
  ) {}

  static messageFor(socket: Socket, event: string, args: unknown[]): SocketEventMessage {
    return { namespace: socket.nsp.name, event, sid: socket.id, socket, args };
  }

  /** Runs the handler inside the channel's stores and the span's context. */
  run<R>(fn: () => R): R {
    const message = this.message;
    if (!message) return this.settleSync(fn);
    return eventChannel.start.runStores(message, () => {
      try {
        return this.settleSync(fn);
      } finally {
        eventChannel.end.publish(message);
      }
    });
  }

  /** The handler's promise resolved (or it answered synchronously: then this does nothing). */
  done(result?: unknown): void {
    this.finish(undefined, false, result);
  }

  /** The handler failed or timed out. */
  fail(error: unknown): void {
    this.finish(error, true);
  }

  /** An error reply was sent for this event by Nest's exception filter (the handler resolves after). */
  mark(status: number, error: unknown): void {
    if (this.finished || this.markedStatus !== undefined) return;
    this.markedStatus = status;
    this.markedError = error;
  }

  private settleSync<R>(fn: () => R): R {
    let result: R;
    try {
      result = this.otelEvent ? this.otel!.run(this.otelEvent, fn, undefined) : fn();
    } catch (err) {
      this.finish(err, true);
      throw err;
    }
    // A promise or an Observable answers later: the dispatcher calls done() or fail() then.
    if (result instanceof Promise || isObservable(result)) this.async = true;
    else this.finish(undefined, false, result);
    return result;
  }

  private finish(error: unknown, failed: boolean, result?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    let outcome: SocketEventOutcome = 'ok';
    let status: number | undefined;
    if (failed) {
      status = toErrorReply(error).reply.error.status;
      outcome = (error as { limit?: string } | undefined)?.limit === 'time' ? 'timeout' : 'error';
    } else if (this.markedStatus !== undefined) {
      status = this.markedStatus;
      error = this.markedError;
      failed = true;
      outcome = 'error';
    }
    const message = this.message;
    if (message) {
      message.outcome = outcome;
      if (failed) {
        message.status = status;
        message.error = error;
        eventChannel.error.publish(message);
      } else message.result = result;
      if (this.async) {
        eventChannel.asyncStart.publish(message);
        eventChannel.asyncEnd.publish(message);
      }
    }
    if (this.otelEvent) {
      this.otel!.endEvent(this.otelEvent, outcome, status, error);
    }
  }
}

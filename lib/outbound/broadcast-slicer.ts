import { Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import {
  interceptBroadcasts,
  packetHook,
  type LocalBroadcast,
} from '../internals/socket-io.internals.js';

/** The resolved `broadcastSlicing` option. */
export interface SlicingSettings {
  /** Broadcasts to at least this many local recipients are written in slices. */
  threshold: number;
  /** Recipients written per event-loop turn, at most. */
  sliceSize: number;
  /** Milliseconds of writing after which a slice ends early. */
  sliceMs: number;
}

/** Defaults of `broadcastSlicing` (see the README's Performance section for the measurements). */
export const DEFAULT_SLICING: SlicingSettings = { threshold: 1000, sliceSize: 250, sliceMs: 4 };

/** The settings of the `broadcastSlicing` option; undefined when it is `false` (off). */
export function slicingSettings(
  option: false | Partial<SlicingSettings> | undefined,
): SlicingSettings | undefined {
  if (option === false) return undefined;
  // Field by field: an option given as `undefined` (e.g. from unset configuration) is the default.
  return {
    threshold: option?.threshold ?? DEFAULT_SLICING.threshold,
    sliceSize: option?.sliceSize ?? DEFAULT_SLICING.sliceSize,
    sliceMs: option?.sliceMs ?? DEFAULT_SLICING.sliceMs,
  };
}

/** A large broadcast whose recipients are being written, slice after slice. */
interface PendingBroadcast {
  readonly recipients: Socket[];
  readonly write: (socket: Socket) => void;
  /** Index of the next recipient to look at. */
  next: number;
}

/** A recipient's broadcasts still to write, oldest first (one without an array: the usual case). */
type Backlog = PendingBroadcast | PendingBroadcast[];

/**
 * Writes large broadcasts of one server in slices, a slice per event-loop turn, so the server
 * keeps answering while it fans out. Per client, packets keep their order: large broadcasts
 * are written first in, first out; a smaller broadcast, a `broadcastWithAck` or a packet to the
 * socket itself (emit, ack, disconnect) first writes that client's pending broadcasts. Nothing
 * is kept per socket unless a broadcast to it is pending.
 */
export class BroadcastSlicer {
  private readonly queue: PendingBroadcast[] = [];
  /**
   * A pending recipient's backlog is an own property of its socket under this slicer's symbol
   * (added after the packet hook and deleted before it, so the socket gets its hidden class
   * back): cheaper than a map keyed by socket, and gone with the socket.
   */
  private readonly key = Symbol('pending broadcasts');
  private pendingSockets = 0;
  /** Milliseconds taken by the emits since the last slice (taking recipients, marking them). */
  private spent = 0;
  private scheduled = false;
  private readonly hook = packetHook((socket) => this.flush(socket));
  private readonly run = () => this.writeSlice();
  private readonly logger = new Logger('SocketIOModule');

  constructor(private readonly settings: SlicingSettings) {}

  /** Wraps a socket.io adapter constructor or factory: its instances deliver through this slicer. */
  wrap(base: unknown): unknown {
    const construct = base as new (nsp: unknown) => object;
    const deliver = (broadcast: LocalBroadcast) => this.deliver(broadcast);
    // socket.io calls it with `new`; returning an object makes that object the instance.
    return function SlicingAdapter(nsp: unknown) {
      const adapter = new construct(nsp);
      interceptBroadcasts(adapter, deliver);
      return adapter;
    };
  }

  private deliver({ collect, write, estimate, withAck }: LocalBroadcast): void {
    const small = withAck || estimate < this.settings.threshold;
    if (small && this.pendingSockets === 0) return collect(write);
    if (small) {
      return collect((socket) => {
        this.flush(socket);
        write(socket);
      });
    }
    const started = performance.now();
    const recipients: Socket[] = [];
    collect((socket) => recipients.push(socket));
    if (recipients.length < this.settings.threshold) {
      for (const socket of recipients) {
        this.flush(socket);
        write(socket);
      }
      return;
    }
    const broadcast: PendingBroadcast = { recipients, write, next: 0 };
    this.queue.push(broadcast);
    for (const socket of recipients) {
      const backlog = this.backlogOf(socket);
      if (backlog === undefined) {
        this.hook.install(socket);
        this.setBacklog(socket, broadcast);
        this.pendingSockets++;
      } else if (Array.isArray(backlog)) backlog.push(broadcast);
      else this.setBacklog(socket, [backlog, broadcast]);
    }
    // The next slice may run in this same event-loop turn: it gets what is left of `sliceMs`.
    this.spent += performance.now() - started;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  /** Writes every broadcast still pending for this socket now, oldest first. */
  private flush(socket: Socket): void {
    const backlog = this.backlogOf(socket);
    if (backlog === undefined) return;
    this.forget(socket);
    if (!Array.isArray(backlog)) return backlog.write(socket);
    for (const broadcast of backlog) broadcast.write(socket);
  }

  private backlogOf(socket: Socket): Backlog | undefined {
    return (socket as unknown as Record<symbol, Backlog | undefined>)[this.key];
  }

  private setBacklog(socket: Socket, backlog: Backlog): void {
    (socket as unknown as Record<symbol, Backlog>)[this.key] = backlog;
  }

  private forget(socket: Socket): void {
    delete (socket as unknown as Record<symbol, Backlog>)[this.key];
    this.pendingSockets--;
    this.hook.release(socket);
  }

  /**
   * Writes the next `sliceSize` recipients of the oldest broadcast (fewer once `sliceMs` passed), each with every broadcast
   * still pending for it (so back-to-back broadcasts to one client still leave in one write, as
   * they do unsliced). A recipient whose oldest pending broadcast is not this one was served
   * already (flushed by a direct packet or a smaller broadcast) and is passed over.
   */
  private writeSlice(): void {
    let budget = this.settings.sliceSize;
    // The clock is read every 16 writes: a write costs 10-30 µs, a clock read about 50 ns.
    const deadline = performance.now() + Math.max(this.settings.sliceMs - this.spent, 0);
    this.spent = 0;
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0];
      const { recipients } = head;
      while (budget > 0 && head.next < recipients.length) {
        const socket = recipients[head.next++];
        const backlog = this.backlogOf(socket);
        if (backlog !== head && !(Array.isArray(backlog) && backlog[0] === head)) continue;
        if (--budget % 16 === 0 && performance.now() > deadline) budget = 0;
        // A client gone since the emit is skipped (its connection would drop the packets anyway).
        if (socket.connected) this.flushSafely(socket);
        else this.forget(socket);
      }
      if (head.next === recipients.length) this.queue.shift();
    }
    if (this.queue.length > 0) setImmediate(this.run);
    else this.scheduled = false;
  }

  /**
   * A write that throws (an `onAnyOutgoing` listener of the app's) has no emit caller to reach
   * in a later turn: it is logged, and the other recipients and broadcasts still go out.
   */
  private flushSafely(socket: Socket): void {
    try {
      this.flush(socket);
    } catch (err) {
      this.logger.error(
        `A write of a sliced broadcast to ${socket.id} threw: ${(err as Error)?.stack ?? String(err)}`,
      );
    }
  }
}

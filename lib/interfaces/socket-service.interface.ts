/** Where and how `emit` and `send` deliver. */
export interface EmitOptions {
  /** A sid, a room, or a list of them; omitted: the whole namespace. */
  to?: string | string[];
  /** Namespace to emit in. @default the current handler's namespace, else '/' */
  namespace?: string;
  /** Clients (sids) or rooms that must not receive it. */
  skipSid?: string | string[];
  /** `false` skips the current client (only inside a handler). @default true */
  includeSelf?: boolean;
  /** The packet may be dropped when the client is not ready. @default false */
  volatile?: boolean;
  /** Compress the packet (with permessage-deflate on). @default true */
  compress?: boolean;
}

/** Whom `call` asks, and how long it waits. */
export interface CallOptions {
  /** The sid of the client to call. */
  to: string;
  /** Its namespace. @default the current handler's namespace, else '/' */
  namespace?: string;
  /** Milliseconds to wait for the ack before rejecting with a `TimeoutError`. @default 60000 */
  timeout?: number;
}

/** Which client a room or disconnect helper works on. */
export interface SidOptions {
  /** @default the current client */
  sid?: string;
  /** @default the current client's namespace, else '/' */
  namespace?: string;
}

/** A running background task started by `SocketService.startBackgroundTask`. */
export interface BackgroundTask {
  /** Settles when the task has finished (its rejection is logged, never thrown here). */
  readonly done: Promise<void>;
  /** True until the task has finished. */
  readonly running: boolean;
  /** Aborts the task's signal; the returned promise settles when the task has finished. */
  cancel(): Promise<void>;
}

/**
 * The event-map shape socket.io's typed servers use. An index signature of `any` (as socket.io's
 * own) so that event maps written as interfaces, as socket.io's docs do, satisfy it.
 */
export interface EventsMap {
  [event: string]: any;
}

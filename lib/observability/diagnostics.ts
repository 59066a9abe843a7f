import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'socket.io';

/** Name of the tracing channel of handled events (`start`, `end`, `asyncStart`, `asyncEnd`, `error`). */
export const EVENT_CHANNEL = 'nest-socketio:event';
/** Name of the channel of connection decisions: accepted, refused (with the reason), disconnected. */
export const CONNECTION_CHANNEL = 'nest-socketio:connection';
/** Name of the channel of error replies, including rate-limit (429) and time-limit (504) refusals. */
export const ERROR_CHANNEL = 'nest-socketio:error';
/** Name of the channel of message-queue state changes (down, up). */
export const QUEUE_CHANNEL = 'nest-socketio:queue';

/** How a handled event ended. */
export type SocketEventOutcome = 'ok' | 'error' | 'timeout';

/**
 * The context object of one handled event on `tracingChannel('nest-socketio:event')`: the same
 * object travels through start, end, asyncStart, asyncEnd and error, so a subscriber may keep
 * its own state on it (as Node's own tracing channels allow).
 */
export interface SocketEventMessage {
  namespace: string;
  event: string;
  sid: string;
  socket: Socket;
  /** The event's arguments, without the ack callback. */
  args: unknown[];
  /** Set before `end` (synchronous handler) or `asyncEnd`. */
  outcome?: SocketEventOutcome;
  /** The status of the error reply, when the outcome is not `ok`. */
  status?: number;
  error?: unknown;
  result?: unknown;
}

/** A message on `nest-socketio:connection`. */
export interface SocketConnectionMessage {
  type: 'accepted' | 'refused' | 'disconnected';
  /** Absent when the engine refused the request before any namespace was reached. */
  namespace?: string;
  sid?: string;
  /** Why the client was refused (the `connect_error` message), or why it disconnected. */
  reason?: string;
  socket?: Socket;
}

/** A message on `nest-socketio:error`: one error reply sent to a client. */
export interface SocketErrorMessage {
  namespace: string;
  event?: string;
  sid: string;
  status: number;
  message: string | string[];
  /** `rate` for a `rateLimit` refusal (429), `time` for a `handlerTimeout` refusal (504). */
  limit?: 'rate' | 'time';
  error: unknown;
}

/** A message on `nest-socketio:queue`. */
export interface SocketQueueMessage {
  state: 'down' | 'up';
  /** The queue, without credentials: `Redis at 127.0.0.1:6379`. */
  queue: string;
  /** Which connection changed (publisher, subscriber, pool). */
  role?: string;
  reason?: string;
}

// Channels are process-wide by name (that is how subscribers find them); holding the objects
// keeps Node from collecting a channel that has subscribers only through its name.
export const eventChannel = diagnostics.tracingChannel<unknown, SocketEventMessage & object>(
  EVENT_CHANNEL,
);
export const connectionChannel = diagnostics.channel(CONNECTION_CHANNEL);
export const errorChannel = diagnostics.channel(ERROR_CHANNEL);
export const queueChannel = diagnostics.channel(QUEUE_CHANNEL);

/** Publishes a queue state change; builds nothing when no one subscribes. */
export function publishQueueState(
  state: 'down' | 'up',
  queue: string,
  role?: string,
  reason?: string,
): void {
  if (!queueChannel.hasSubscribers) return;
  const message: SocketQueueMessage = { state, queue, role, reason };
  queueChannel.publish(message);
}

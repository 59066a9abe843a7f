import type { PresenceEntry } from './presence-entries.js';
import type { PresenceMeta } from './presence.types.js';

/** A change of the sender's own presences: a join (with its meta) or a leave (by sid). */
export type PresenceOp =
  | [op: 'j', topic: string, key: string, meta: PresenceMeta]
  | [op: 'l', topic: string, key: string, sid: string];

/**
 * What processes tell each other. Every process numbers its changes (`seq`), so a receiver
 * sees a lost or reordered message as a gap and asks for the sender's whole state.
 */
export type PresenceMessage =
  /** The sender's changes since its previous delta, in order. */
  | { t: 'delta'; from: string; seq: number; ops: PresenceOp[] }
  /** "I live, and my latest change is `seq`": one per process per interval, whatever it tracks. */
  | { t: 'hb'; from: string; seq: number }
  /** Asks `to` (or every process) for its whole state. */
  | { t: 'sync'; from: string; to?: string }
  /** The sender's whole state as of `seq`. */
  | { t: 'state'; from: string; seq: number; entries: PresenceEntry[] }
  /** The sender is shutting down: drop its presences now. */
  | { t: 'bye'; from: string };

/** Carries presence messages between the processes (the server's namespace adapter). */
export interface PresenceTransport {
  /** Sends to every other process; never throws (a lost message is repaired by the next sync). */
  publish(message: PresenceMessage): void;
  /** Releases what the transport opened of its own. */
  close(): Promise<void>;
}

/** The event name of presence messages between servers (`serverSideEmit`). */
export const PRESENCE_CLUSTER_EVENT = 'nest-socketio:presence';

export function isPresenceMessage(value: unknown): value is PresenceMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as { t?: unknown; from?: unknown };
  return typeof m.t === 'string' && typeof m.from === 'string';
}

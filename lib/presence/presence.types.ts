/** One presence of a key: the user's metadata plus the client it belongs to and when it came. */
export type PresenceMeta = Record<string, unknown> & {
  /** The tracked client. */
  sid: string;
  /** When it was tracked, in milliseconds since the epoch. */
  onlineAt: number;
};

/** Who is present in a topic: every key with all of its metas (one per client). */
export type PresenceState = Record<string, { metas: PresenceMeta[] }>;

/**
 * What changed in a topic (`presence_diff`): apply `leaves` first, then `joins`; a meta is
 * identified by its `sid` within its key.
 */
export interface PresenceDiff {
  joins: PresenceState;
  leaves: PresenceState;
}

/** The `presence` option: how often a process tells the others it lives, and when they give up on it. */
export interface PresenceOptions {
  /** Milliseconds between a process's heartbeats; also how long a disconnected client's presence waits for it to come back. @default 5000 */
  heartbeatInterval?: number;
  /** Milliseconds without a heartbeat after which a process's presences are dropped. @default 15000 */
  timeout?: number;
}

/** Event a tracked client receives once, with the topic's whole `PresenceState` and the topic. */
export const PRESENCE_STATE_EVENT = 'presence_state';
/** Event the topic's room receives on every change, with a `PresenceDiff` and the topic. */
export const PRESENCE_DIFF_EVENT = 'presence_diff';

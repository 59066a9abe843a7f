import type { PresenceDiff, PresenceMeta, PresenceState } from './presence.types.js';

interface TopicChanges {
  joins: Map<string, PresenceMeta[]>;
  leaves: Map<string, PresenceMeta[]>;
}

/**
 * The changes made since the last delivery, per topic. A meta that joins and leaves before the
 * delivery cancels out (nobody saw it); a meta that leaves and is replaced (an update, or a
 * client that came back under its key) shows as a leave and a join of that key in one diff.
 */
export class PresenceChanges {
  private topics = new Map<string, TopicChanges>();

  get empty(): boolean {
    return this.topics.size === 0;
  }

  join(topic: string, key: string, meta: PresenceMeta): void {
    push(this.of(topic).joins, key, meta);
  }

  leave(topic: string, key: string, meta: PresenceMeta): void {
    const changes = this.of(topic);
    const joined = changes.joins.get(key);
    const at = joined ? joined.findIndex((m) => m.sid === meta.sid) : -1;
    if (at !== -1) {
      joined!.splice(at, 1);
      if (joined!.length === 0) changes.joins.delete(key);
      if (changes.joins.size === 0 && changes.leaves.size === 0) this.topics.delete(topic);
      return;
    }
    push(changes.leaves, key, meta);
  }

  /** Takes every pending diff, by topic. */
  drain(): Map<string, PresenceDiff> {
    const out = new Map<string, PresenceDiff>();
    for (const [topic, { joins, leaves }] of this.topics) {
      out.set(topic, { joins: toState(joins), leaves: toState(leaves) });
    }
    this.topics = new Map();
    return out;
  }

  private of(topic: string): TopicChanges {
    let changes = this.topics.get(topic);
    if (!changes) this.topics.set(topic, (changes = { joins: new Map(), leaves: new Map() }));
    return changes;
  }
}

function push(map: Map<string, PresenceMeta[]>, key: string, meta: PresenceMeta): void {
  const list = map.get(key);
  if (list) list.push(meta);
  else map.set(key, [meta]);
}

function toState(map: Map<string, PresenceMeta[]>): PresenceState {
  const state: PresenceState = {};
  for (const [key, metas] of map) state[key] = { metas };
  return state;
}

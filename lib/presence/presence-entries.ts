import type { PresenceMeta, PresenceState } from './presence.types.js';

/** One presence in the wire form: topic, key, meta. */
export type PresenceEntry = [topic: string, key: string, meta: PresenceMeta];

/**
 * The presences one process owns (its own, or its copy of another's): topic -> key -> metas.
 * Metas sit in a plain array because a key nearly always has one or two; that keeps a tracked
 * client to a few small objects.
 */
export class PresenceEntries {
  private readonly topics = new Map<string, Map<string, PresenceMeta[]>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The metas of a key (live array: copy it before changing the entries). */
  metas(topic: string, key: string): readonly PresenceMeta[] {
    return this.topics.get(topic)?.get(key) ?? [];
  }

  get(topic: string, key: string, sid: string): PresenceMeta | undefined {
    return this.topics
      .get(topic)
      ?.get(key)
      ?.find((m) => m.sid === sid);
  }

  /** Adds a meta, replacing the one of the same sid; returns the replaced one. */
  put(topic: string, key: string, meta: PresenceMeta): PresenceMeta | undefined {
    let keys = this.topics.get(topic);
    if (!keys) this.topics.set(topic, (keys = new Map()));
    const metas = keys.get(key);
    if (!metas) {
      keys.set(key, [meta]);
      this.count++;
      return undefined;
    }
    const at = metas.findIndex((m) => m.sid === meta.sid);
    if (at === -1) {
      metas.push(meta);
      this.count++;
      return undefined;
    }
    const old = metas[at];
    metas[at] = meta;
    return old;
  }

  remove(topic: string, key: string, sid: string): PresenceMeta | undefined {
    const keys = this.topics.get(topic);
    const metas = keys?.get(key);
    const at = metas ? metas.findIndex((m) => m.sid === sid) : -1;
    if (at === -1) return undefined;
    const [old] = metas!.splice(at, 1);
    this.count--;
    if (metas!.length === 0) keys!.delete(key);
    if (keys!.size === 0) this.topics.delete(topic);
    return old;
  }

  /** Adds this topic's presences to `into` (several owners make one topic's state). */
  collect(topic: string, into: PresenceState): void {
    const keys = this.topics.get(topic);
    if (!keys) return;
    for (const [key, metas] of keys) {
      const slot = (into[key] ??= { metas: [] });
      slot.metas.push(...metas);
    }
  }

  *entries(): IterableIterator<PresenceEntry> {
    for (const [topic, keys] of this.topics) {
      for (const [key, metas] of keys) for (const meta of metas) yield [topic, key, meta];
    }
  }

  clear(): void {
    this.topics.clear();
    this.count = 0;
  }
}

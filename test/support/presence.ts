// Client side of the presence tests: applies presence_state and presence_diff as the README tells
// users to (leaves first, then joins; a meta is its sid within its key) and counts what came.
import type { Socket as ClientSocket } from 'socket.io-client';
import type { PresenceDiff, PresenceMeta, PresenceState } from 'nest-socketio';

export class PresenceView {
  /** key -> sid -> meta, as this client sees it. */
  readonly keys = new Map<string, Map<string, PresenceMeta>>();
  readonly diffs: PresenceDiff[] = [];
  states = 0;
  /** `key/sid` (and the meta after an update) -> how many joins (state included) and leaves came. */
  readonly joins = new Map<string, number>();
  readonly leaves = new Map<string, number>();
  private waiters: (() => void)[] = [];

  constructor(socket: ClientSocket) {
    socket.on('presence_state', (state: PresenceState) => {
      this.states++;
      // A new state (the client was tracked again) replaces everything: counting restarts.
      this.keys.clear();
      this.joins.clear();
      this.leaves.clear();
      this.apply(state, 'join');
      this.changed();
    });
    socket.on('presence_diff', (diff: PresenceDiff) => {
      this.diffs.push(diff);
      this.apply(diff.leaves, 'leave');
      this.apply(diff.joins, 'join');
      this.changed();
    });
  }

  /** Keys present, sorted. */
  get present(): string[] {
    return [...this.keys.keys()].toSorted();
  }

  sids(key: string): string[] {
    return [...(this.keys.get(key)?.keys() ?? [])].toSorted();
  }

  /** Resolves as soon as `check` holds after some presence event (or already holds). */
  until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${what}; present: ${this.present.join(', ')}`));
      }, timeoutMs);
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  private apply(state: PresenceState, kind: 'join' | 'leave'): void {
    for (const [key, { metas }] of Object.entries(state)) {
      for (const meta of metas) {
        const { sid, onlineAt: _at, ...rest } = meta;
        // Only an update changes a meta: the first version is counted under key/sid alone.
        const extra =
          Object.keys(rest).length && this.updated(key, sid, rest) ? JSON.stringify(rest) : '';
        const id = `${key}/${sid}${extra}`;
        const counts = kind === 'join' ? this.joins : this.leaves;
        counts.set(id, (counts.get(id) ?? 0) + 1);
        let sids = this.keys.get(key);
        if (kind === 'join') {
          if (!sids) this.keys.set(key, (sids = new Map()));
          sids.set(meta.sid, meta);
        } else {
          sids?.delete(meta.sid);
          if (sids?.size === 0) this.keys.delete(key);
        }
      }
    }
  }

  private readonly firstMeta = new Map<string, string>();
  private updated(key: string, sid: string, rest: object): boolean {
    const first = this.firstMeta.get(`${key}/${sid}`);
    const now = JSON.stringify(rest);
    if (first === undefined) this.firstMeta.set(`${key}/${sid}`, now);
    return first !== undefined && first !== now;
  }

  private changed(): void {
    for (const waiter of this.waiters.slice()) waiter();
  }
}

/** The keys of a `PresenceState`, sorted, with their sids. */
export function summary(state: PresenceState): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of Object.keys(state).toSorted())
    out[key] = state[key].metas.map((m) => m.sid).toSorted();
  return out;
}

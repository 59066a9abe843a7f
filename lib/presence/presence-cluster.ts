import { randomUUID } from 'node:crypto';
import { PresenceChanges } from './presence-diff.js';
import { PresenceEntries, type PresenceEntry } from './presence-entries.js';
import type { PresenceMessage, PresenceOp, PresenceTransport } from './presence-protocol.js';
import type { ResolvedPresenceOptions } from './presence-options.js';
import type { PresenceDiff, PresenceMeta, PresenceState } from './presence.types.js';

/** Deltas kept while waiting for a sender's state; beyond that the state alone will do. */
const MAX_BUFFERED = 1000;

/** Another process's presences as this process last heard them. */
interface Replica {
  readonly entries: PresenceEntries;
  /** The sender's last change applied here; meaningful once `synced`. */
  seq: number;
  synced: boolean;
  lastSeen: number;
  /** Deltas that arrived ahead of a missing one, by seq. */
  readonly ahead: Map<number, PresenceOp[]>;
  /** When a state was last asked for (0: not pending). */
  askedAt: number;
}

/**
 * The cluster-wide presence state of one process, as Phoenix.Tracker keeps it: the process owns
 * the presences of its own clients and numbers their changes; it keeps a replica of every other
 * process's presences, fed by their deltas, checked by their heartbeats (batched: one per
 * process), repaired by a full state transfer on any gap, and dropped when the heartbeats stop.
 * No entry is ever written by two processes, so a sequence number per owner replaces
 * Phoenix's vector clocks.
 */
export class PresenceCluster {
  readonly id = randomUUID();
  readonly own = new PresenceEntries();
  private readonly replicas = new Map<string, Replica>();
  private readonly changes = new PresenceChanges();
  private seq = 0;
  private outgoing: PresenceOp[] = [];
  private stateAsked = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly options: ResolvedPresenceOptions,
    private readonly transport: PresenceTransport | undefined,
    /** A read-only member (an emitter-only worker) owns nothing and answers nothing. */
    private readonly readOnly = false,
  ) {}

  /** Asks every process for its state (at start; answers also come with their heartbeats). */
  start(): void {
    this.transport?.publish({ t: 'sync', from: this.id });
  }

  /** Adds or replaces a presence of this process; returns the meta it replaced. */
  put(topic: string, key: string, meta: PresenceMeta): PresenceMeta | undefined {
    const old = this.own.put(topic, key, meta);
    if (old) {
      this.changes.leave(topic, key, old);
      this.outgoing.push(['l', topic, key, old.sid]);
    }
    this.changes.join(topic, key, meta);
    this.outgoing.push(['j', topic, key, meta]);
    return old;
  }

  /** Removes a presence of this process; returns it when there was one. */
  remove(topic: string, key: string, sid: string): PresenceMeta | undefined {
    const old = this.own.remove(topic, key, sid);
    if (!old) return undefined;
    this.changes.leave(topic, key, old);
    this.outgoing.push(['l', topic, key, sid]);
    return old;
  }

  /** The whole cluster's presences in a topic, as this process knows them. */
  list(topic: string): PresenceState {
    const state: PresenceState = {};
    this.own.collect(topic, state);
    for (const replica of this.replicas.values()) replica.entries.collect(topic, state);
    return state;
  }

  /**
   * True once this process has heard every live process: one heartbeat interval has passed
   * since it started and every process it heard of has sent its state.
   */
  get settled(): boolean {
    if (!this.transport) return true;
    if (Date.now() - this.startedAt < this.options.heartbeatInterval * 1.2) return false;
    for (const replica of this.replicas.values()) if (!replica.synced) return false;
    return true;
  }

  /** Sends this process's pending changes (one delta) and takes the diffs to deliver locally. */
  flush(): Map<string, PresenceDiff> {
    if (this.outgoing.length > 0) {
      const ops = this.outgoing;
      this.outgoing = [];
      this.seq++;
      this.transport?.publish({ t: 'delta', from: this.id, seq: this.seq, ops });
    }
    if (this.stateAsked) {
      this.stateAsked = false;
      this.transport?.publish({
        t: 'state',
        from: this.id,
        seq: this.seq,
        entries: [...this.own.entries()],
      });
    }
    return this.changes.empty ? new Map() : this.changes.drain();
  }

  /** True when something waits for `flush()`. */
  get dirty(): boolean {
    return this.outgoing.length > 0 || this.stateAsked || !this.changes.empty;
  }

  /** Every heartbeat interval: say we live, drop the silent, ask again for missing states. */
  tick(now = Date.now()): void {
    if (this.transport && !this.readOnly && this.seq > 0) {
      this.transport.publish({ t: 'hb', from: this.id, seq: this.seq });
    }
    for (const [id, replica] of this.replicas) {
      if (now - replica.lastSeen > this.options.timeout) this.drop(id);
      else if (!replica.synced && now - replica.askedAt >= this.options.heartbeatInterval) {
        this.ask(id, replica, now);
      }
    }
  }

  /** Tells the others this process is going: they drop its presences at once. */
  leave(): void {
    if (this.transport && this.seq > 0) this.transport.publish({ t: 'bye', from: this.id });
  }

  receive(message: PresenceMessage, now = Date.now()): void {
    if (message.from === this.id) return;
    switch (message.t) {
      case 'delta':
        return this.onDelta(message.from, message.seq, message.ops, now);
      case 'hb':
        return this.onHeartbeat(message.from, message.seq, now);
      case 'sync':
        if (!this.readOnly && (message.to === undefined || message.to === this.id)) {
          if (this.seq > 0) this.stateAsked = true;
        }
        return;
      case 'state':
        return this.onState(message.from, message.seq, message.entries, now);
      case 'bye':
        return this.drop(message.from);
    }
  }

  private onDelta(from: string, seq: number, ops: PresenceOp[], now: number): void {
    let replica = this.replicas.get(from);
    if (!replica) {
      replica = this.addReplica(from, now);
      // The sender's very first change needs no history.
      if (seq === 1) replica.synced = true;
    }
    replica.lastSeen = now;
    if (replica.synced && seq <= replica.seq) return;
    if (replica.synced && seq === replica.seq + 1) {
      this.apply(replica, seq, ops);
      this.applyAhead(replica);
      return;
    }
    // A gap (a lost or reordered message): keep it, and ask for the whole state.
    if (replica.ahead.size < MAX_BUFFERED) replica.ahead.set(seq, ops);
    if (!replica.askedAt) this.ask(from, replica, now);
  }

  private onHeartbeat(from: string, seq: number, now: number): void {
    let replica = this.replicas.get(from);
    if (!replica) replica = this.addReplica(from, now);
    replica.lastSeen = now;
    if ((!replica.synced || seq > replica.seq) && !replica.askedAt) this.ask(from, replica, now);
  }

  private onState(from: string, seq: number, entries: PresenceEntry[], now: number): void {
    let replica = this.replicas.get(from);
    if (!replica) replica = this.addReplica(from, now);
    replica.lastSeen = now;
    if (replica.synced && seq <= replica.seq) return;
    const before = new Map<string, [string, string, PresenceMeta]>();
    for (const entry of replica.entries.entries()) before.set(entryId(entry), entry);
    replica.entries.clear();
    for (const [topic, key, meta] of entries) {
      const id = entryId([topic, key, meta]);
      const old = before.get(id);
      before.delete(id);
      replica.entries.put(topic, key, meta);
      if (old && sameMeta(old[2], meta)) continue;
      if (old) this.changes.leave(topic, key, old[2]);
      this.changes.join(topic, key, meta);
    }
    for (const [topic, key, meta] of before.values()) this.changes.leave(topic, key, meta);
    replica.seq = seq;
    replica.synced = true;
    replica.askedAt = 0;
    for (const s of replica.ahead.keys()) if (s <= seq) replica.ahead.delete(s);
    this.applyAhead(replica);
  }

  private apply(replica: Replica, seq: number, ops: PresenceOp[]): void {
    for (const op of ops) {
      if (op[0] === 'j') {
        const old = replica.entries.put(op[1], op[2], op[3]);
        if (old) this.changes.leave(op[1], op[2], old);
        this.changes.join(op[1], op[2], op[3]);
      } else {
        const old = replica.entries.remove(op[1], op[2], op[3]);
        if (old) this.changes.leave(op[1], op[2], old);
      }
    }
    replica.seq = seq;
  }

  private applyAhead(replica: Replica): void {
    for (;;) {
      const ops = replica.ahead.get(replica.seq + 1);
      if (!ops) return;
      replica.ahead.delete(replica.seq + 1);
      this.apply(replica, replica.seq + 1, ops);
    }
  }

  private addReplica(id: string, now: number): Replica {
    const replica: Replica = {
      entries: new PresenceEntries(),
      seq: 0,
      synced: false,
      lastSeen: now,
      ahead: new Map(),
      askedAt: 0,
    };
    this.replicas.set(id, replica);
    return replica;
  }

  private ask(id: string, replica: Replica, now: number): void {
    replica.askedAt = now;
    this.transport?.publish({ t: 'sync', from: this.id, to: id });
  }

  private drop(id: string): void {
    const replica = this.replicas.get(id);
    if (!replica) return;
    this.replicas.delete(id);
    for (const [topic, key, meta] of replica.entries.entries()) {
      this.changes.leave(topic, key, meta);
    }
  }
}

function entryId([topic, key, meta]: PresenceEntry): string {
  return `${topic}\u0000${key}\u0000${meta.sid}`;
}

function sameMeta(a: PresenceMeta, b: PresenceMeta): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

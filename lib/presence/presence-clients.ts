import type { Socket } from 'socket.io';

/**
 * The clients this process tracks: the topic/key pairs of each (for its disconnect and for
 * `untrack(topic)`), and the disconnected ones, whose presences wait `holdMs` for the client to
 * come back under its key before `depart` ends them.
 */
export class TrackedClients {
  /** topic/key pairs, flat, per sid: one small array per client. */
  private readonly pairs = new Map<string, string[]>();
  private readonly departures = new Map<string, NodeJS.Timeout>();
  private readonly onDisconnect: (this: Socket) => void;
  private stopped = false;

  constructor(
    private readonly holdMs: number,
    private readonly depart: (sid: string, pairs: string[]) => void,
  ) {
    // One function for every socket (socket.io calls it with the socket as `this`): no closure
    // per tracked client.
    // oxlint-disable-next-line typescript/no-this-alias
    const clients = this;
    this.onDisconnect = function (this: Socket) {
      clients.disconnected(this.id);
    };
  }

  has(sid: string): boolean {
    return this.pairs.has(sid);
  }

  /** True while a disconnected client's presences wait for it. */
  isDeparting(sid: string): boolean {
    return this.departures.has(sid);
  }

  /** The topic/key pairs of a client, flat: topic, key, topic, key... */
  of(sid: string): readonly string[] {
    return this.pairs.get(sid) ?? [];
  }

  add(socket: Socket, topic: string, key: string): void {
    const pairs = this.pairs.get(socket.id);
    if (pairs) {
      pairs.push(topic, key);
      return;
    }
    this.pairs.set(socket.id, [topic, key]);
    socket.on('disconnect', this.onDisconnect);
    // Tracked in handleConnection: a client refused after that never connects, nor disconnects.
    if (!socket.connected) {
      setTimeout(() => {
        if (!socket.connected) this.disconnected(socket.id);
      }, this.holdMs).unref();
    }
  }

  delete(sid: string, topic: string, key: string): void {
    const pairs = this.pairs.get(sid);
    if (!pairs) return;
    for (let i = 0; i < pairs.length; i += 2) {
      if (pairs[i] === topic && pairs[i + 1] === key) pairs.splice(i, 2);
    }
    if (pairs.length > 0) return;
    this.pairs.delete(sid);
    clearTimeout(this.departures.get(sid));
    this.departures.delete(sid);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.departures.values()) clearTimeout(timer);
    this.departures.clear();
  }

  private disconnected(sid: string): void {
    if (this.stopped || !this.pairs.has(sid) || this.departures.has(sid)) return;
    const timer = setTimeout(() => {
      this.departures.delete(sid);
      const pairs = this.pairs.get(sid) ?? [];
      this.pairs.delete(sid);
      this.depart(sid, pairs);
    }, this.holdMs);
    timer.unref();
    this.departures.set(sid, timer);
  }
}

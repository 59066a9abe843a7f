// The replication rules of PresenceCluster, between real instances joined by an in-process bus
// whose delivery the test controls (drop, delay, reorder): what a flaky queue can do.
import { describe, expect, it } from 'vitest';
import { PresenceCluster } from '../../../lib/presence/presence-cluster.js';
import type { PresenceMessage } from '../../../lib/presence/presence-protocol.js';
import type { PresenceDiff, PresenceMeta } from '../../../lib/presence/presence.types.js';

const OPTIONS = { heartbeatInterval: 100, timeout: 300 };

/** Processes on one bus; messages wait in `queue` until the test delivers them. */
class Bus {
  readonly members: PresenceCluster[] = [];
  queue: { to: PresenceCluster; message: PresenceMessage }[] = [];

  join(readOnly = false): PresenceCluster {
    const member: PresenceCluster = new PresenceCluster(
      OPTIONS,
      {
        publish: (message) => {
          const copy = JSON.parse(JSON.stringify(message)) as PresenceMessage;
          for (const to of this.members) if (to !== member) this.queue.push({ to, message: copy });
        },
        close: async () => {},
      },
      readOnly,
    );
    this.members.push(member);
    return member;
  }

  /** Delivers everything queued (and what that causes), in order, at `now`. */
  deliver(now = Date.now(), keep: (m: PresenceMessage) => boolean = () => true): void {
    while (this.queue.length) {
      const { to, message } = this.queue.shift()!;
      if (keep(message)) to.receive(message, now);
    }
  }
}

const meta = (sid: string, extra: Record<string, unknown> = {}): PresenceMeta => ({
  ...extra,
  sid,
  onlineAt: 1,
});
const keys = (c: PresenceCluster, topic = 't') => Object.keys(c.list(topic)).toSorted();
/** Flushes and returns the diff of topic `t` (empty when nothing changed). */
const diffOf = (c: PresenceCluster): PresenceDiff | undefined => c.flush().get('t');

/** Two processes; b has replicated a's presence k1/s1 (and delivered its diff). */
function synced() {
  const bus = new Bus();
  const a = bus.join();
  const b = bus.join();
  a.put('t', 'k1', meta('s1'));
  a.flush();
  bus.deliver();
  b.flush();
  return { bus, a, b };
}

describe('PresenceCluster', () => {
  it('replicates deltas in order and reports each change once', () => {
    const bus = new Bus();
    const a = bus.join();
    const b = bus.join();
    a.put('t', 'alice', meta('s1'));
    expect(diffOf(a)).toEqual({ joins: { alice: { metas: [meta('s1')] } }, leaves: {} });
    bus.deliver();
    expect(diffOf(b)).toEqual({ joins: { alice: { metas: [meta('s1')] } }, leaves: {} });
    a.remove('t', 'alice', 's1');
    a.flush();
    bus.deliver();
    expect(diffOf(b)).toEqual({ joins: {}, leaves: { alice: { metas: [meta('s1')] } } });
    expect(diffOf(b)).toBeUndefined();
  });

  it('a join and a leave before delivery cancel out; an update is a leave and a join', () => {
    const bus = new Bus();
    const a = bus.join();
    a.put('t', 'k', meta('s1'));
    a.remove('t', 'k', 's1');
    expect(diffOf(a)).toBeUndefined();
    a.put('t', 'k', meta('s2', { v: 1 }));
    a.flush();
    a.put('t', 'k', meta('s2', { v: 2 }));
    expect(diffOf(a)).toEqual({
      joins: { k: { metas: [meta('s2', { v: 2 })] } },
      leaves: { k: { metas: [meta('s2', { v: 1 })] } },
    });
  });

  it('reordered deltas are applied in order (a Postgres pool may reorder NOTIFYs)', () => {
    const { bus, a, b } = synced();
    a.put('t', 'k2', meta('s2'));
    a.flush();
    a.remove('t', 'k1', 's1');
    a.flush();
    bus.queue.reverse(); // delta 3 arrives before delta 2
    bus.deliver();
    expect(keys(b)).toEqual(['k2']);
    expect(diffOf(b)).toEqual({
      joins: { k2: { metas: [meta('s2')] } },
      leaves: { k1: { metas: [meta('s1')] } },
    });
  });

  it('a lost delta is repaired by a state transfer that the next heartbeat triggers', () => {
    const { bus, a, b } = synced();
    a.put('t', 'k2', meta('s2'));
    a.flush();
    bus.deliver(Date.now(), (m) => m.t !== 'delta'); // lost
    expect(keys(b)).toEqual(['k1']);
    a.tick(); // heartbeat with seq 2: b asks, a answers with its state
    bus.deliver();
    a.flush();
    bus.deliver();
    expect(keys(b)).toEqual(['k1', 'k2']);
    expect(diffOf(b)).toEqual({ joins: { k2: { metas: [meta('s2')] } }, leaves: {} });
  });

  it('a late process and a read-only member learn the state; a silent process is dropped once', () => {
    const bus = new Bus();
    const a = bus.join();
    a.put('t', 'k1', meta('s1'));
    a.flush();
    bus.deliver();
    const late = bus.join();
    const reader = bus.join(true);
    late.start();
    reader.start();
    bus.deliver();
    a.flush(); // answers the sync requests
    bus.deliver();
    expect(keys(late)).toEqual(['k1']);
    expect(keys(reader)).toEqual(['k1']);
    // The read-only member never speaks for itself.
    reader.tick();
    expect(bus.queue).toEqual([]);

    const later = Date.now() + OPTIONS.timeout + 1;
    late.flush();
    late.tick(later);
    expect(keys(late)).toEqual([]);
    expect(diffOf(late)).toEqual({ joins: {}, leaves: { k1: { metas: [meta('s1')] } } });
    late.tick(later + 1);
    expect(diffOf(late)).toBeUndefined();
  });

  it('a process that comes back (a queue outage) is synced again, its joins reported again', () => {
    const { bus, a, b } = synced();
    b.tick(Date.now() + OPTIONS.timeout + 1); // silence: dropped
    expect(diffOf(b)?.leaves).toEqual({ k1: { metas: [meta('s1')] } });
    a.tick(); // its heartbeat comes through again
    bus.deliver();
    a.flush();
    bus.deliver();
    expect(diffOf(b)).toEqual({ joins: { k1: { metas: [meta('s1')] } }, leaves: {} });
  });

  it('bye drops the leaving process at once', () => {
    const { bus, a, b } = synced();
    a.leave();
    bus.deliver();
    expect(keys(b)).toEqual([]);
    expect(diffOf(b)?.leaves).toEqual({ k1: { metas: [meta('s1')] } });
  });
});

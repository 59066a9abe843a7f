import { setTimeout as delay } from 'node:timers/promises';
import type { Namespace, Server } from 'socket.io';
import { UnknownClientError } from '../errors/unknown-client.error.js';
import { existingNamespace } from '../internals/socket-io.internals.js';
import type { MessageQueue } from './message-queue.interface.js';
import type { RemoteClients } from './remote-clients.js';

/** The `MessageQueue` of servers joined by a cluster adapter (any adapter with `fetchSockets`). */
export function clusterQueue(
  adapter: unknown,
  close: () => Promise<void>,
  probe?: () => Promise<void>,
): MessageQueue {
  return { adapter, remoteClients: (server) => new ClusterClients(server), probe, close };
}

/** How long a room change may take to show on the process that serves the client. */
const SETTLE_TIMEOUT = 5000;

/**
 * `RemoteClients` over a cluster adapter (Redis, Postgres, or any adapter with `fetchSockets`):
 * the change is broadcast to every process, then confirmed by asking the process that serves
 * the client, so a resolved `join` means the next emit to the room reaches it.
 */
class ClusterClients implements RemoteClients {
  constructor(private readonly server: Server | undefined) {}

  async join(namespace: string, sid: string, room: string | string[]): Promise<void> {
    const nsp = this.nsp(namespace, sid);
    const rooms = ([] as string[]).concat(room);
    nsp.in(sid).socketsJoin(rooms);
    await this.until(nsp, sid, (current) => rooms.every((r) => current.has(r)));
  }

  async leave(namespace: string, sid: string, room: string): Promise<void> {
    const nsp = this.nsp(namespace, sid);
    nsp.in(sid).socketsLeave(room);
    await this.until(nsp, sid, (current) => !current.has(room));
  }

  async rooms(namespace: string, sid: string): Promise<string[]> {
    const rooms = await this.fetchRooms(this.nsp(namespace, sid), sid);
    if (!rooms) throw new UnknownClientError(sid, namespace);
    return [...rooms];
  }

  async disconnect(namespace: string, sid: string): Promise<void> {
    const nsp = this.nsp(namespace, sid);
    if (!(await this.fetchRooms(nsp, sid))) throw new UnknownClientError(sid, namespace);
    nsp.in(sid).disconnectSockets();
    await this.settleWhile(async () => (await this.fetchRooms(nsp, sid)) !== undefined);
  }

  async settle(namespace: string, room?: string): Promise<void> {
    const nsp = this.namespace(namespace);
    if (!nsp) return;
    // The room change and this request travel the same ordered channel: once no process
    // reports a client in the room, the change reached every process.
    if (room === undefined) {
      await nsp.fetchSockets();
      return;
    }
    // A client may (re)join the room meanwhile, legitimately: ask a few times, never fail.
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((await nsp.in(room).fetchSockets()).length === 0) return;
      await delay(10 * 2 ** attempt);
    }
  }

  private nsp(namespace: string, sid: string): Namespace {
    const nsp = this.namespace(namespace);
    if (!nsp) throw new UnknownClientError(sid, namespace);
    return nsp;
  }

  private namespace(name: string): Namespace | undefined {
    return this.server ? existingNamespace(this.server, name) : undefined;
  }

  /** The rooms of a client on any process, or undefined when no process serves it. */
  private async fetchRooms(nsp: Namespace, sid: string): Promise<Set<string> | undefined> {
    const [socket] = await nsp.in(sid).fetchSockets();
    return socket ? new Set(socket.rooms) : undefined;
  }

  private async until(
    nsp: Namespace,
    sid: string,
    done: (rooms: Set<string>) => boolean,
  ): Promise<void> {
    await this.settleWhile(async () => {
      const rooms = await this.fetchRooms(nsp, sid);
      if (!rooms) throw new UnknownClientError(sid, nsp.name);
      return !done(rooms);
    });
  }

  /** Asks again while `pending` says so; the first answer normally settles it. */
  private async settleWhile(pending: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + SETTLE_TIMEOUT;
    let wait = 5;
    while (await pending()) {
      if (Date.now() > deadline) {
        throw new Error(`The message queue did not confirm the change within ${SETTLE_TIMEOUT} ms`);
      }
      await delay(wait);
      wait = Math.min(wait * 2, 200);
    }
  }
}

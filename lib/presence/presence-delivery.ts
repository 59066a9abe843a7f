import type { Namespace, Socket } from 'socket.io';
import { namespacesOf } from '../internals/socket-io.internals.js';
import type { SocketServers } from '../outbound/socket-servers.js';
import {
  PRESENCE_DIFF_EVENT,
  PRESENCE_STATE_EVENT,
  type PresenceDiff,
  type PresenceState,
} from './presence.types.js';

/**
 * Sends presence to this process's clients: each diff to its topic's room, and the whole state
 * to the clients tracked since the last delivery instead of the diff of the same changes (so
 * that no client sees a change twice).
 */
export class PresenceDelivery {
  private newcomers = new Map<string, Socket[]>();

  constructor(private readonly servers: SocketServers) {}

  /** A client tracked in `topic`: it gets the state at the next delivery. */
  newcomer(topic: string, socket: Socket): void {
    const list = this.newcomers.get(topic);
    if (list) list.push(socket);
    else this.newcomers.set(topic, [socket]);
  }

  deliver(diffs: Map<string, PresenceDiff>, list: (topic: string) => PresenceState): void {
    const newcomers = this.newcomers;
    this.newcomers = new Map();
    for (const [topic, diff] of diffs) {
      const skip = newcomers.get(topic)?.map((s) => s.id) ?? [];
      for (const nsp of this.namespaces()) {
        if (!nsp.adapter.rooms.has(topic)) continue;
        const room = nsp.local.to(topic);
        (skip.length ? room.except(skip) : room).emit(PRESENCE_DIFF_EVENT, diff, topic);
      }
    }
    for (const [topic, sockets] of newcomers) {
      const state = list(topic);
      // One broadcast per namespace: the state is encoded once however many clients came.
      const ready = new Map<Namespace, string[]>();
      for (const socket of sockets) {
        if (socket.connected) {
          const sids = ready.get(socket.nsp);
          if (sids) sids.push(socket.id);
          else ready.set(socket.nsp, [socket.id]);
          continue;
        }
        // Tracked in handleConnection: the room misses it until it is accepted, so its state is
        // taken then, and includes whatever changed meanwhile.
        this.servers.whenAccepted(socket, () =>
          socket.emit(PRESENCE_STATE_EVENT, list(topic), topic),
        );
      }
      for (const [nsp, sids] of ready) nsp.local.to(sids).emit(PRESENCE_STATE_EVENT, state, topic);
    }
  }

  private namespaces(): Iterable<Namespace> {
    const server = this.servers.server;
    return server ? namespacesOf(server) : [];
  }
}

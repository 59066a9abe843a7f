import { Injectable } from '@nestjs/common';
import { SocketService } from 'nest-socketio';

/** The socket.io room every socket of one user joins: private messages go there. */
export const userRoom = (name: string) => `user:${name}`;

/** The socket.io room of a chat room (prefixed, so it never clashes with the demo's rooms). */
export const chatRoom = (room: string) => `#${room}`;

/**
 * Who is online. It asks socket.io rather than keeping a map, so with a message queue it sees
 * the users of every instance (`fetchSockets()` goes through the adapter).
 */
@Injectable()
export class PresenceService {
  constructor(private readonly sockets: SocketService) {}

  /** Names of the users with at least one socket, in `room` or anywhere. */
  async online(room?: string): Promise<string[]> {
    const server = this.sockets.server;
    const sockets = await (room ? server.in(room) : server).fetchSockets();
    const names = sockets
      .map((s) => (s.data as { user?: string }).user)
      .filter((n): n is string => !!n);
    return [...new Set(names)].toSorted();
  }

  /**
   * Tells every client who is online now. In `handleConnection` the connecting client is not
   * among socket.io's sockets yet (it is accepted once the handler is done): pass its user.
   */
  async broadcast(connecting?: string): Promise<void> {
    const online = await this.online();
    if (connecting && !online.includes(connecting)) online.push(connecting);
    this.sockets.emit('online', online.toSorted(), { namespace: '/' });
  }
}

import { Injectable } from '@nestjs/common';
import { PresenceService, SocketService } from 'nest-socketio';
import { InjectChatOptions, type ChatOptions } from './chat.options.js';

/** The socket.io room every socket of one user joins: private messages go there. */
export const userRoom = (name: string) => `user:${name}`;

/** The socket.io room of a chat room (prefixed, so it never clashes with the demo's rooms). */
export const chatRoom = (room: string) => `#${room}`;

/** The presence topic of the whole chat; its room gets `presence_diff` on every change. */
export const ONLINE_TOPIC = 'online';

/**
 * Who is online, across every instance: each socket is tracked under its user's name, so a
 * user with two tabs is one key with two metas and goes offline with its last tab. The pages
 * keep their list from `presence_state` and `presence_diff` (see public/app.js).
 */
@Injectable()
export class ChatPresence {
  constructor(
    private readonly presence: PresenceService,
    private readonly sockets: SocketService,
    @InjectChatOptions() private readonly options: ChatOptions,
  ) {}

  /** Tracks the current socket under its user; it gets `presence_state`, the others a diff. */
  track(user: string): Promise<void> {
    return this.presence.track(ONLINE_TOPIC, user, {
      instance: this.options.instanceName ?? 'chat',
    });
  }

  /** Names of the users online, on every instance. */
  async online(): Promise<string[]> {
    return Object.keys(await this.presence.list(ONLINE_TOPIC)).toSorted();
  }

  /** Names of the users with a socket in `room` (socket.io's rooms, through the adapter). */
  async members(room: string): Promise<string[]> {
    const sockets = await this.sockets.server.in(room).fetchSockets();
    const names = sockets
      .map((s) => (s.data as { user?: string }).user)
      .filter((n): n is string => !!n);
    return [...new Set(names)].toSorted();
  }
}

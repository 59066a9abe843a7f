import { ForbiddenException, NotFoundException, UsePipes, ValidationPipe } from '@nestjs/common';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import { SocketContext, SocketService, UseConnectionGuards } from 'nest-socketio';
import { ChatMessageDto, PrivateMessageDto, RoomDto } from './chat.dto.js';
import { InjectChatOptions, type ChatOptions } from './chat.options.js';
import { LoggedInGuard } from './logged-in.guard.js';
import { ChatPresence, chatRoom, userRoom } from './presence.service.js';
import { currentUser } from './session.js';

/**
 * The chat: rooms, private messages and who is online. Only logged-in visitors connect
 * (`LoggedInGuard`); a bad payload is answered with status 400 and the validation messages.
 */
@UseConnectionGuards(LoggedInGuard)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
@WebSocketGateway()
export class ChatGateway implements OnGatewayConnection {
  constructor(
    private readonly sockets: SocketService,
    private readonly ctx: SocketContext,
    private readonly presence: ChatPresence,
    @InjectChatOptions() private readonly options: ChatOptions,
  ) {}

  /**
   * Flask-SocketIO's connect handler: `LoggedInGuard` has let the user in, so put this socket in
   * the room of all the user's tabs, tell the page who and where it is, and track it as online
   * (it gets who is online, everyone else the change). The page sends nothing for any of it.
   * Going offline needs no handler: presence ends with the socket.
   */
  async handleConnection(): Promise<void> {
    const user = this.user();
    await this.ctx.joinRoom(userRoom(user));
    this.ctx.emit('welcome', { user, instance: this.options.instanceName ?? 'chat' });
    await this.presence.track(user);
  }

  @SubscribeMessage('chat:join')
  async join(@MessageBody() { room }: RoomDto) {
    await this.ctx.joinRoom(chatRoom(room));
    this.sockets.emit(
      'chat:system',
      { room, text: `${this.user()} joined #${room}` },
      { to: chatRoom(room) },
    );
    return { room, members: await this.presence.members(chatRoom(room)) };
  }

  @SubscribeMessage('chat:leave')
  async leave(@MessageBody() { room }: RoomDto) {
    await this.ctx.leaveRoom(chatRoom(room));
    this.sockets.emit(
      'chat:system',
      { room, text: `${this.user()} left #${room}` },
      { to: chatRoom(room) },
    );
    return { room };
  }

  /** A message to a room the sender is in; everyone in the room gets it, the sender too. */
  @SubscribeMessage('chat:message')
  async message(@MessageBody() { room, text }: ChatMessageDto) {
    if (!(await this.ctx.rooms()).includes(chatRoom(room))) {
      throw new ForbiddenException(`Join #${room} first`);
    }
    const message = { room, from: this.user(), text, at: new Date().toISOString() };
    this.sockets.emit('chat:message', message, { to: chatRoom(room) });
    return { ok: true };
  }

  /** A private message: every tab of the recipient and of the sender gets it. */
  @SubscribeMessage('chat:private')
  async private(@MessageBody() { to, text }: PrivateMessageDto) {
    if (!(await this.presence.members(userRoom(to))).length) {
      throw new NotFoundException(`${to} is not online`);
    }
    const from = this.user();
    const message = { from, to, text, at: new Date().toISOString() };
    this.sockets.emit('chat:private', message, { to: [userRoom(to), userRoom(from)] });
    return { ok: true };
  }

  @SubscribeMessage('chat:online')
  online() {
    return this.presence.online();
  }

  private user(): string {
    // LoggedInGuard let only logged-in visitors in, so the session has a name.
    return currentUser(this.ctx) ?? 'anonymous';
  }
}

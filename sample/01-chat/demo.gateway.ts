import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import { SocketContext, SocketService } from 'nest-socketio';
import { ONLINE_TOPIC } from './presence.service.js';

interface RoomPayload {
  room: string;
  data?: string;
}

/**
 * Flask-SocketIO's example app, event for event: every answer is a `my_response` event carrying
 * the text and how many events this connection has sent (kept in its socket session, as Flask's
 * `session['receive_count']`).
 */
@WebSocketGateway()
export class DemoGateway implements OnGatewayConnection {
  constructor(
    private readonly sockets: SocketService,
    private readonly ctx: SocketContext,
  ) {}

  /** Flask's `connect` handler: greets the client as soon as it is accepted. */
  handleConnection(): void {
    this.ctx.emit('my_response', { data: 'Connected', count: 0 });
  }

  /** Flask's `my_event`: echoes to the sender. */
  @SubscribeMessage('echo')
  echo(@MessageBody() data: string): void {
    this.ctx.emit('my_response', { data, count: this.received() });
  }

  /** Flask's `my_broadcast_event`: every connected client gets it. */
  @SubscribeMessage('broadcast')
  broadcast(@MessageBody() data: string): void {
    this.sockets.emit('my_response', { data, count: this.received() });
  }

  @SubscribeMessage('join')
  async join(@MessageBody() { room }: RoomPayload): Promise<void> {
    await this.ctx.joinRoom(room);
    this.ctx.emit('my_response', {
      data: `In rooms: ${await this.roomList()}`,
      count: this.received(),
    });
  }

  @SubscribeMessage('leave')
  async leave(@MessageBody() { room }: RoomPayload): Promise<void> {
    await this.ctx.leaveRoom(room);
    this.ctx.emit('my_response', {
      data: `In rooms: ${await this.roomList()}`,
      count: this.received(),
    });
  }

  /** Tells the room it is closing, then empties it (in every process, with a message queue). */
  @SubscribeMessage('close_room')
  async closeRoom(@MessageBody() { room }: RoomPayload): Promise<void> {
    this.sockets.emit(
      'my_response',
      { data: `Room ${room} is closing.`, count: this.received() },
      { to: room },
    );
    await this.sockets.closeRoom(room);
  }

  @SubscribeMessage('room_event')
  roomEvent(@MessageBody() { room, data }: RoomPayload): void {
    this.sockets.emit('my_response', { data, count: this.received() }, { to: room });
  }

  /** Says goodbye, waits until the client has it (its ack), then disconnects it. */
  @SubscribeMessage('disconnect_request')
  async disconnectRequest(): Promise<void> {
    await this.ctx
      .call('my_response', { data: 'Disconnected!', count: this.received() }, { timeout: 5000 })
      .catch(() => undefined);
    await this.ctx.disconnect();
  }

  /** Flask's `my_ping`: the ack is the pong; the page times the round trip. */
  @SubscribeMessage('my_ping')
  ping(): string {
    return 'pong';
  }

  private received(): number {
    const session = this.ctx.session;
    session.receiveCount = (Number(session.receiveCount) || 0) + 1;
    return session.receiveCount as number;
  }

  private async roomList(): Promise<string> {
    // Only the rooms the demo's buttons make, not the sid room or the chat's own rooms.
    const rooms = await this.ctx.rooms();
    return rooms
      .filter((r) => r !== this.ctx.sid && r !== ONLINE_TOPIC && !/^(#|user:)/.test(r))
      .join(', ');
  }
}

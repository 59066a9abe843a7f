import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionRefusedError,
  SocketContext,
  SocketIOModule,
  SocketService,
} from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';

@WebSocketGateway()
class LobbyGateway {
  constructor(
    private readonly ctx: SocketContext,
    private readonly sockets: SocketService,
  ) {}

  async handleConnection(socket: Socket) {
    // Flask's "join a room on connect" pattern, through the context and the service.
    await this.ctx.joinRoom('lobby');
    await this.sockets.joinRoom('everyone', { sid: socket.id });
    if (socket.handshake.auth.refuse) throw new ConnectionRefusedError('go away');
  }

  @SubscribeMessage('rooms')
  rooms() {
    return this.ctx.rooms();
  }
}

describe('rooms joined in handleConnection', () => {
  afterEach(() => closeClients());

  it('are in effect once the client is accepted, and vanish for a refused client', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [LobbyGateway],
    });
    try {
      const refused = client(url, { auth: { refuse: true } });
      const error = await next<Error & { message: string }>(refused, 'connect_error');
      expect(error.message).toBe('go away');

      const c = await connect(url);
      expect(((await c.emitWithAck('rooms')) as string[]).toSorted()).toEqual(
        [c.id, 'everyone', 'lobby'].toSorted(),
      );
      const heard = next(c, 'hello');
      app.get(SocketService).emit('hello', 'lobby', { to: 'lobby' });
      expect(await heard).toBe('lobby');

      const adapter = app.get(SocketService).server.of('/').adapter;
      expect([...(adapter.rooms.get('lobby') ?? [])]).toEqual([c.id]);
    } finally {
      await app.close();
    }
  });
});

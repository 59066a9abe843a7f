// The spec shown in the README's Testing section, kept here so it is known to pass.
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketContext, SocketIOModule, SocketService } from 'nest-socketio';
import { createTestClient } from 'nest-socketio/testing';

@WebSocketGateway({ namespace: '/chat' })
class ChatGateway {
  constructor(private readonly ctx: SocketContext) {}

  @SubscribeMessage('join')
  async join(@MessageBody() room: string) {
    await this.ctx.joinRoom(room);
    this.ctx.emit('said', `you joined ${room}`, { to: room });
    return { joined: room };
  }

  @SubscribeMessage('say')
  say(@MessageBody() { room, text }: { room: string; text: string }) {
    this.ctx.emit('said', text, { to: room, includeSelf: false });
  }
}

describe('ChatGateway', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SocketIOModule.forRoot()],
      providers: [ChatGateway],
    }).compile();
    app = moduleRef.createNestApplication();
    await app.init(); // no listen(): the test client picks a free port
  });

  afterAll(() => app.close()); // closes the clients too

  it('acks a join and tells the room', async () => {
    const ann = await createTestClient(app, { namespace: '/chat' });
    expect(await ann.emit('join', 'lobby', { ack: true })).toEqual({ joined: 'lobby' });
    expect(ann.getReceived()).toEqual([
      { name: 'said', args: ['you joined lobby'], namespace: '/chat' },
    ]);
  });

  it('reaches the others in the room, not the sender', async () => {
    const ann = await createTestClient(app, { namespace: '/chat' });
    const bob = await createTestClient(app, { namespace: '/chat' });
    await ann.emit('join', 'lobby', { ack: true });
    await bob.emit('join', 'lobby', { ack: true });
    ann.getReceived();
    await ann.emit('say', { room: 'lobby', text: 'hi' }); // resolves once the server handled it
    expect(await bob.waitFor('said')).toEqual(['you joined lobby']);
    expect(await bob.waitFor('said')).toEqual(['hi']);
    expect(ann.getReceived()).toEqual([]);
  });

  it('answers what the server asks', async () => {
    const ann = await createTestClient(app, { namespace: '/chat' });
    ann.onCall('ping', (n) => (n as number) + 1);
    const sockets = app.get(SocketService);
    expect(await sockets.call('ping', 41, { to: ann.sid, namespace: '/chat' })).toBe(42);
  });
});

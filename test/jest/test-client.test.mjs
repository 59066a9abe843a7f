// The test client under jest (ESM, node --experimental-vm-modules), against the built package.
import 'reflect-metadata';
import { Inject } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { SocketIOModule, SocketService } from 'nest-socketio';
import { createTestClient } from 'nest-socketio/testing';

// Plain JavaScript has no decorator syntax: apply Nest's decorators by hand.
function handler(target, method, event, params) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  SubscribeMessage(event)(target.prototype, method, descriptor);
  params.forEach((param, index) => param()(target.prototype, method, index));
}

class ChatGateway {
  constructor(sockets) {
    this.sockets = sockets;
  }
  echo(data) {
    return data;
  }
  hello(name, client) {
    client.emit('greeting', `hello ${name}`);
  }
  async ask(question, client) {
    return this.sockets.call('question', question, { to: client.id, timeout: 2000 });
  }
}
handler(ChatGateway, 'echo', 'echo', [MessageBody]);
handler(ChatGateway, 'hello', 'hello', [MessageBody, ConnectedSocket]);
handler(ChatGateway, 'ask', 'ask', [MessageBody, ConnectedSocket]);
Inject(SocketService)(ChatGateway, undefined, 0);
WebSocketGateway({ namespace: '/chat' })(ChatGateway);

describe('nest-socketio/testing under jest', () => {
  let app;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SocketIOModule.forRoot({ logger: false })],
      providers: [ChatGateway],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  test('acks, received events and answered calls', async () => {
    const client = await createTestClient(app, { namespace: '/chat' });
    expect(client.isConnected()).toBe(true);
    expect(await client.emit('echo', { a: 1 }, { ack: true })).toEqual({ a: 1 });
    await client.emit('hello', 'jest');
    expect(client.getReceived()).toEqual([
      { name: 'greeting', args: ['hello jest'], namespace: '/chat' },
    ]);
    client.onCall('question', (q) => `${q} yes`);
    expect(await client.emit('ask', 'ready?', { ack: true })).toBe('ready? yes');
  });

  test('a refused connection rejects', async () => {
    await expect(createTestClient(app, { namespace: '/nowhere' })).rejects.toThrow(
      'Invalid namespace',
    );
  });
});

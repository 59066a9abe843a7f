// Flask-SocketIO's test_delayed_init and test_message_queue_options, for the test client: options
// that arrive late (forRootAsync) and a message queue, where Flask's own client gives up.
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketContext, SocketIOModule, SocketService } from 'nest-socketio';
import { createTestClient } from 'nest-socketio/testing';
import { flaskApp } from './flask-app.js';

@WebSocketGateway()
class JsonGreetingGateway implements OnGatewayConnection {
  constructor(private readonly ctx: SocketContext) {}
  handleConnection() {
    this.ctx.send({ connected: 'foo' });
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('configuration', () => {
  it('test_delayed_init: options from forRootAsync reach the server, and the client connects', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SocketIOModule.forRootAsync({
          useFactory: async () => ({
            logger: false,
            cookie: { name: 'foo' },
            serverOptions: { allowUpgrades: false },
          }),
        }),
      ],
      providers: [JsonGreetingGateway],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const engine = app.get(SocketService).server.engine as unknown as {
      opts: { allowUpgrades: boolean; cookie: { name: string } };
    };
    expect(engine.opts.allowUpgrades).toBe(false);
    expect(engine.opts.cookie.name).toBe('foo');
    const client = await createTestClient(app);
    expect(client.getReceived()).toEqual([
      { name: 'message', args: [{ connected: 'foo' }], namespace: '/' },
    ]);
  });

  it('test_message_queue_options: the test client works with a Redis message queue', async () => {
    const moduleRef = await Test.createTestingModule(
      flaskApp({ messageQueue: 'redis://127.0.0.1:6379', channel: `test-${randomUUID()}` }),
    ).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const c1 = await createTestClient(app, { auth: { foo: 'bar' } });
    const c2 = await createTestClient(app, { auth: { foo: 'bar' } });
    await c1.emit('join room', { room: 'one' });
    await c2.emit('join room', { room: 'one' });
    c1.getReceived();
    c2.getReceived();
    await c1.emit('my room event', { a: 'b', room: 'one' });
    const expected = [{ name: 'my room response', args: [{ a: 'b' }], namespace: '/' }];
    expect(c1.getReceived()).toEqual(expected);
    await c2.waitFor('my room response');
    expect(c2.getReceived()).toEqual(expected);
    expect(await c2.emit('my custom event', { a: 'b' }, { ack: true })).toEqual({ a: 'b' });
  });
});

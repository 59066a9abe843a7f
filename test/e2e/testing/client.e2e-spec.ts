// The test client's own behaviour, beyond Flask-SocketIO's suite.
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
} from '@nestjs/websockets';
import type { Server as HttpServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io';
import {
  ConnectionRefusedError,
  SocketContext,
  SocketIOModule,
  SocketService,
} from 'nest-socketio';
import { createTestClient } from 'nest-socketio/testing';

@WebSocketGateway()
class EchoGateway {
  constructor(private readonly ctx: SocketContext) {}

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    this.ctx.emit('echoed', data);
    return data;
  }

  @SubscribeMessage('ask')
  async ask(@MessageBody() question: unknown) {
    return this.ctx.call('question', question, { timeout: 1000 });
  }
}

@WebSocketGateway({ namespace: '/other' })
class OtherGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function build(
  metadata: ModuleMetadata = {},
  { fastify = false } = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [SocketIOModule.forRoot({ logger: false })],
    providers: [EchoGateway, OtherGateway],
    ...metadata,
  }).compile();
  let app: INestApplication;
  if (fastify) {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = moduleRef.createNestApplication(new FastifyAdapter() as never, { logger: false });
  } else {
    app = moduleRef.createNestApplication({ logger: false });
  }
  apps.push(app);
  await app.init();
  return app;
}

describe('createTestClient', () => {
  it('makes an initialised app listen on a loopback port, and app.close() releases it', async () => {
    const app = await build();
    const http = app.getHttpServer() as HttpServer;
    expect(http.listening).toBe(false);
    const client = await createTestClient(app);
    expect(http.listening).toBe(true);
    expect(http.address()).toMatchObject({ address: '127.0.0.1' });
    expect(await client.emit('echo', 'hi', { ack: true })).toBe('hi');
    await app.close();
    apps.length = 0;
    expect(http.listening).toBe(false);
    expect(client.isConnected()).toBe(false);
    await expect(client.emit('echo', 'hi')).rejects.toThrow('not connected');
  });

  it('uses an app that already listens, on its own port', async () => {
    const app = await build();
    await app.listen(0, '127.0.0.1');
    const port = ((app.getHttpServer() as HttpServer).address() as { port: number }).port;
    const client = await createTestClient(app);
    expect(await client.emit('echo', port, { ack: true })).toBe(port);
  });

  it("finds the module's path", async () => {
    const app = await build({ imports: [SocketIOModule.forRoot({ path: '/ws', logger: false })] });
    const client = await createTestClient(app);
    expect(await client.emit('echo', 'on /ws', { ack: true })).toBe('on /ws');
  });

  it('works on a Fastify app', async () => {
    const app = await build({}, { fastify: true });
    const client = await createTestClient(app);
    expect(await client.emit('echo', 'fastify', { ack: true })).toBe('fastify');
  });

  it('rejects a namespace without a gateway with the server message', async () => {
    const app = await build();
    await expect(createTestClient(app, { namespace: '/nowhere' })).rejects.toThrow(
      'Invalid namespace',
    );
  });
});

describe('with alwaysConnect', () => {
  @WebSocketGateway({ namespace: '/late' })
  class LateGateway implements OnGatewayConnection {
    constructor(private readonly ctx: SocketContext) {}
    async handleConnection(client: Socket) {
      await Promise.resolve();
      if (client.handshake.auth.refuse) throw new ConnectionRefusedError('go away');
      this.ctx.emit('welcome', client.id);
    }
  }

  it('connect resolves after handleConnection ran: its emits are there, a refusal disconnects', async () => {
    const app = await build({
      imports: [SocketIOModule.forRoot({ logger: false, alwaysConnect: true })],
      providers: [LateGateway],
    });
    const client = await createTestClient(app, { namespace: '/late' });
    expect(client.getReceived()).toEqual([
      { name: 'welcome', args: [client.sid], namespace: '/late' },
    ]);
    const refused = await createTestClient(app, { namespace: '/late', auth: { refuse: true } });
    expect(refused.isConnected()).toBe(false);
    expect(refused.getReceived()).toEqual([]);
  });
});

describe('a connection the server never answers', () => {
  @WebSocketGateway({ namespace: '/stuck' })
  class StuckGateway implements OnGatewayConnection {
    handleConnection() {
      return new Promise<void>(() => undefined);
    }
  }

  it('makes connect reject after the timeout', async () => {
    const app = await build({ providers: [StuckGateway] });
    await expect(createTestClient(app, { namespace: '/stuck', timeout: 100 })).rejects.toThrow(
      'no answer to connecting "/stuck" within 100 ms',
    );
  });
});

describe('SocketIOTestClient', () => {
  it('waitFor resolves with an event that already arrived or arrives later, each once', async () => {
    const app = await build();
    const sockets = app.get(SocketService);
    const client = await createTestClient(app);
    sockets.emit('tick', 1);
    sockets.emit('tick', 2);
    expect(await client.waitFor('tick')).toEqual([1]);
    expect(await client.waitFor('tick')).toEqual([2]);
    const third = client.waitFor('tick');
    sockets.emit('tick', 3);
    expect(await third).toEqual([3]);
    // waitFor leaves them in getReceived().
    expect(client.getReceived().map((e) => e.args[0])).toEqual([1, 2, 3]);
  });

  it('waitFor rejects after its timeout, naming the event and namespace', async () => {
    const app = await build();
    const client = await createTestClient(app);
    await expect(client.waitFor('never', { timeout: 50 })).rejects.toThrow(
      'no "never" received on namespace "/" within 50 ms',
    );
  });

  it('getReceived drains one namespace and leaves the others', async () => {
    const app = await build();
    const sockets = app.get(SocketService);
    const client = await createTestClient(app);
    await client.connect('/other');
    sockets.emit('a', 1);
    sockets.emit('b', 2, { namespace: '/other' });
    await client.waitFor('a');
    await client.waitFor('b', { namespace: '/other' });
    expect(client.getReceived('/other')).toEqual([{ name: 'b', args: [2], namespace: '/other' }]);
    expect(client.getReceived('/other')).toEqual([]);
    expect(client.getReceived()).toEqual([{ name: 'a', args: [1], namespace: '/' }]);
  });

  it('has a sid per namespace, the one the server sees', async () => {
    const app = await build();
    const sockets = app.get(SocketService);
    const client = await createTestClient(app);
    await client.connect('/other');
    expect(client.sidOf('/')).toBe(client.sid);
    expect(client.sidOf('/other')).not.toBe(client.sid);
    expect(await sockets.rooms({ sid: client.sid })).toEqual([client.sid]);
    expect(() => client.sidOf('/nowhere')).toThrow('not connected to namespace "/nowhere"');
  });

  it('onCall answers with the reply value, or an empty ack for undefined', async () => {
    const app = await build();
    const client = await createTestClient(app);
    client.onCall('question', (q) => (q === 'none' ? undefined : { got: q }));
    expect(await client.emit('ask', 42, { ack: true })).toEqual({ got: 42 });
    const sockets = app.get(SocketService);
    await expect(
      sockets.call('question', 'none', { to: client.sid, timeout: 1000 }),
    ).resolves.toBeUndefined();
  });

  it('an unanswered acked emit rejects after its timeout', async () => {
    const app = await build();
    const client = await createTestClient(app);
    await expect(client.emit('no-handler', 1, { ack: true, timeout: 50 })).rejects.toThrow(
      'no ack for "no-handler" within 50 ms',
    );
  });

  it('records the data without the offset that connection state recovery appends', async () => {
    const app = await build({
      imports: [SocketIOModule.forRoot({ logger: false, connectionStateRecovery: true })],
    });
    const client = await createTestClient(app);
    await client.emit('echo', 'hi');
    app.get(SocketService).emit('news', 'extra');
    expect(await client.waitFor('news')).toEqual(['extra']);
    expect(client.getReceived()).toEqual([
      { name: 'echoed', args: ['hi'], namespace: '/' },
      { name: 'news', args: ['extra'], namespace: '/' },
    ]);
  });

  it('can reconnect after disconnecting, with a new sid', async () => {
    const app = await build();
    const client = await createTestClient(app);
    const first = client.sid;
    await client.disconnect();
    expect(client.isConnected()).toBe(false);
    await client.connect();
    expect(client.sid).not.toBe(first);
    expect(await client.emit('echo', 'again', { ack: true })).toBe('again');
  });
});

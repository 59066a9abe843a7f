import { Controller, Injectable, Module, Post, type INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Sid,
  SocketIOModule,
  SocketService,
  type SocketIOModuleOptions,
  type SocketIOOptionsFactory,
} from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';
import { connectError } from '../../support/client-events.js';

@WebSocketGateway()
class EchoGateway {
  constructor(private readonly sockets: SocketService) {}

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }

  @SubscribeMessage('fail')
  fail() {
    throw new Error('failed');
  }

  @SubscribeMessage('shout')
  shout(@MessageBody() data: unknown, @Sid() sid: string) {
    this.sockets.emit('shouted', { data, from: sid });
    return 'ok';
  }
}

@Controller()
class NewsController {
  constructor(private readonly sockets: SocketService) {}

  @Post('news')
  news() {
    this.sockets.emit('news', { title: 'from HTTP' });
    return { sent: true };
  }
}

@Injectable()
class OptionsFromClass implements SocketIOOptionsFactory {
  createSocketIOOptions(): SocketIOModuleOptions {
    return { path: '/from-class' };
  }
}

@Module({ providers: [OptionsFromClass], exports: [OptionsFromClass] })
class OptionsModule {
  readonly name = 'options';
}

const apps: INestApplication[] = [];

async function start(...args: Parameters<typeof startApp>) {
  const started = await startApp(...args);
  apps.push(started.app);
  return started;
}

describe('SocketIOModule', () => {
  afterEach(async () => {
    closeClients();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('forRoot() plus a gateway is all the set-up a client needs', async () => {
    const { url } = await start({ imports: [SocketIOModule.forRoot()], providers: [EchoGateway] });
    const c = await connect(url);
    expect(await c.emitWithAck('echo', 'hi')).toBe('hi');
  });

  it('forRootAsync with useFactory and inject reads ConfigService', async () => {
    const { url } = await start({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ SOCKET_PATH: '/from-config' })],
        }),
        SocketIOModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ path: config.get<string>('SOCKET_PATH') }),
        }),
      ],
      providers: [EchoGateway],
    });
    const c = await connect(url, { path: '/from-config' });
    expect(await c.emitWithAck('echo', 'config')).toBe('config');
    // Nothing is served on the default path any more.
    expect((await fetch(`${url}/socket.io/?EIO=4&transport=polling`)).status).toBe(404);
  });

  it('forRootAsync with useClass', async () => {
    const { url } = await start({
      imports: [SocketIOModule.forRootAsync({ useClass: OptionsFromClass })],
      providers: [EchoGateway],
    });
    const c = await connect(url, { path: '/from-class' });
    expect(await c.emitWithAck('echo', 'class')).toBe('class');
  });

  it('forRootAsync with useExisting', async () => {
    const { url } = await start({
      imports: [
        SocketIOModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFromClass }),
      ],
      providers: [EchoGateway],
    });
    const c = await connect(url, { path: '/from-class' });
    expect(await c.emitWithAck('echo', 'existing')).toBe('existing');
  });

  it('forRootAsync validates what the factory returns', async () => {
    await expect(
      start({
        imports: [SocketIOModule.forRootAsync({ useFactory: () => ({ cookie: 'yes' as never }) })],
        providers: [EchoGateway],
      }),
    ).rejects.toThrow('SocketIOModule option "cookie" must be a boolean or cookie options');
  });

  it.each([
    ['Express', false],
    ['Fastify', true],
  ])(
    'SocketService works with no gateway on %s; "/" accepts, other namespaces refuse',
    async (_, fastify) => {
      const { app, url } = await start(
        { imports: [SocketIOModule.forRoot()], controllers: [NewsController] },
        { fastify },
      );
      const c = await connect(url);
      const news = next(c, 'news');
      const res = await fetch(`${url}/news`, { method: 'POST' });
      expect(res.status).toBe(201);
      expect(await news).toEqual({ title: 'from HTTP' });
      expect(app.get(SocketService).server.of('/').sockets.size).toBe(1);
      const refused = await connectError(client(`${url}/nowhere`));
      expect(refused.message).toBe('Invalid namespace');
    },
  );

  it('an HTTP controller emit reaches socket clients', async () => {
    const { url } = await start({
      imports: [SocketIOModule.forRoot()],
      providers: [EchoGateway],
      controllers: [NewsController],
    });
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const gotA = next(a, 'news');
    const gotB = next(b, 'news');
    const res = await fetch(`${url}/news`, { method: 'POST' });
    expect(await res.json()).toEqual({ sent: true });
    expect(await gotA).toEqual({ title: 'from HTTP' });
    expect(await gotB).toEqual({ title: 'from HTTP' });
  });

  it('runs on Fastify: gateway, ack, broadcast and HTTP emit', async () => {
    const { url } = await start(
      {
        imports: [SocketIOModule.forRoot()],
        providers: [EchoGateway],
        controllers: [NewsController],
      },
      { fastify: true },
    );
    const c = await connect(url);
    const polling = await connect(url, { transports: ['polling'] });
    expect(await c.emitWithAck('echo', { on: 'fastify' })).toEqual({ on: 'fastify' });
    expect(await polling.emitWithAck('echo', 'polling')).toBe('polling');
    const shouted = next(polling, 'shouted');
    await c.emitWithAck('shout', 'hey');
    expect(await shouted).toEqual({ data: 'hey', from: c.id });
    const news = next(c, 'news');
    expect((await fetch(`${url}/news`, { method: 'POST' })).status).toBe(201);
    expect(await news).toEqual({ title: 'from HTTP' });
  });

  it('two apps in one process (same gateway class) do not see each other', async () => {
    const one = await start({
      imports: [SocketIOModule.forRoot({ defaultErrorHandler: () => 'handled by one' })],
      providers: [EchoGateway],
      controllers: [NewsController],
    });
    const two = await start({
      imports: [SocketIOModule.forRoot({ defaultErrorHandler: () => 'handled by two' })],
      providers: [EchoGateway],
      controllers: [NewsController],
    });
    const a = await connect(one.url);
    const b = await connect(two.url);
    const seenByB: string[] = [];
    b.onAny((event: string) => seenByB.push(event));
    const shoutedA = next(a, 'shouted');
    await a.emitWithAck('shout', 'one only');
    expect(await shoutedA).toEqual({ data: 'one only', from: a.id });
    // The other app's emit arrives at b; nothing from app one came before it.
    const news = next(b, 'news');
    await fetch(`${two.url}/news`, { method: 'POST' });
    await news;
    expect(seenByB).toEqual(['news']);
    // Each app answers errors with its own options, though the gateway class is shared.
    expect(await a.emitWithAck('fail')).toBe('handled by one');
    expect(await b.emitWithAck('fail')).toBe('handled by two');
    const s1 = one.app.get(SocketService);
    const s2 = two.app.get(SocketService);
    expect(s1).not.toBe(s2);
    expect(s1.server).not.toBe(s2.server);
    expect(s1.server.of('/').sockets.has(b.id!)).toBe(false);
    expect(await s2.rooms({ sid: b.id! })).toEqual([b.id]);
    await expect(s1.rooms({ sid: b.id! })).rejects.toThrow(/No client with sid/);
  });
});

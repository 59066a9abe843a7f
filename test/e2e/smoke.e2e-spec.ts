import { Controller, Injectable, Post } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { EventName, Sid, SocketContext, SocketIOModule, SocketService } from 'nest-socketio';
import { closeClients, connect, next, startApp } from '../support/app.js';

@Injectable()
class Deep {
  constructor(private readonly ctx: SocketContext) {}
  async who() {
    await new Promise((r) => setTimeout(r, 5));
    return this.ctx.sid;
  }
}

@WebSocketGateway()
class EchoGateway {
  constructor(private readonly deep: Deep) {}
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
  @SubscribeMessage('whoami')
  async whoami(@Sid() sid: string, @ConnectedSocket() socket: Socket) {
    return { sid, same: sid === socket.id, deep: await this.deep.who() };
  }
  @SubscribeMessage('*')
  any(@EventName() name: string, @MessageBody() data: unknown) {
    return { name, data };
  }
  @SubscribeMessage('boom')
  boom() {
    throw new Error('secret internals');
  }
}

@Controller()
class NewsController {
  constructor(private readonly sockets: SocketService) {}
  @Post('news')
  news() {
    this.sockets.emit('news', { title: 'hello' });
    return { ok: true };
  }
}

describe('smoke', () => {
  afterEach(() => closeClients());

  it('echoes, knows the context, catches all, answers errors and emits from HTTP', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [EchoGateway, Deep],
      controllers: [NewsController],
    });
    try {
      const c = await connect(url);
      expect(await c.emitWithAck('echo', { a: 1 })).toEqual({ a: 1 });
      const who = await c.emitWithAck('whoami');
      expect(who).toEqual({ sid: c.id, same: true, deep: c.id });
      expect(await c.emitWithAck('unknown-event', 42)).toEqual({ name: 'unknown-event', data: 42 });
      expect(await c.emitWithAck('boom')).toEqual({
        error: { status: 500, message: 'Internal server error' },
      });
      const exception = next(c, 'exception');
      c.emit('boom');
      expect(await exception).toEqual({ error: { status: 500, message: 'Internal server error' } });
      const news = next(c, 'news');
      const res = await fetch(`${url}/news`, { method: 'POST' });
      expect(res.status).toBe(201);
      expect(await news).toEqual({ title: 'hello' });
    } finally {
      await app.close();
    }
  });
});

import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { ALL_ROOM, type ServerConfig } from '../protocol.js';
import { redisAdapter, type BenchServer } from './bench-server.js';

@WebSocketGateway()
class PlainGateway {
  @WebSocketServer() server!: Server;

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }

  @SubscribeMessage('join')
  async join(@ConnectedSocket() client: Socket, @MessageBody() room: string) {
    await client.join(room);
    return true;
  }
}

@Module({ providers: [PlainGateway] })
// oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a decorated empty class
class PlainModule {}

type IoServerOptions = Parameters<IoAdapter['createIOServer']>[1];
type IoServer = ReturnType<IoAdapter['createIOServer']>;

/** The Redis adapter as Nest's documentation shows it: an IoAdapter subclass. */
class RedisIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly adapter: unknown,
  ) {
    super(app);
  }
  // IoAdapter's own socket.io (the version @nestjs/platform-socket.io pins), as in a user's app.
  override createIOServer(port: number, options?: IoServerOptions): IoServer {
    const server = super.createIOServer(port, options) as IoServer;
    server.adapter(this.adapter as never);
    return server;
  }
}

/** A plain NestJS 12 gateway on Nest's own IoAdapter. */
export async function startNestGateway(config: ServerConfig): Promise<BenchServer> {
  const app = await NestFactory.create(PlainModule, { logger: false });
  const redis = config.redis ? await redisAdapter(config.redis) : undefined;
  if (redis) app.useWebSocketAdapter(new RedisIoAdapter(app, redis.adapter));
  await app.listen(0, '127.0.0.1');
  const gateway = app.get(PlainGateway);
  return {
    port: app.getHttpServer().address().port,
    broadcast: (event, data, room) => {
      if (room) gateway.server.to(room).emit(event, data);
      else gateway.server.emit(event, data);
    },
    emitVia: (via, event, data) => {
      if (via === 'room') gateway.server.to(ALL_ROOM).emit(event, data);
      else gateway.server.emit(event, data);
    },
    close: async () => {
      await app.close();
      await redis?.close();
    },
  };
}

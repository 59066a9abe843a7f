import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { ALL_ROOM, type ServerConfig } from '../protocol.js';
import { eiowsServer, redisAdapter, type BenchServer } from './bench-server.js';

/** What a raw server does per client and per echo (`raw-otel` adds its SDK work around them). */
export interface RawHooks {
  connected?(socket: Socket): void;
  echo?(data: unknown, ack: (reply: unknown) => void): void;
}

/** Raw socket.io on a Node HTTP server: the baseline (on its default engine, `ws`). */
export async function startRaw(config: ServerConfig, hooks: RawHooks = {}): Promise<BenchServer> {
  const echo = hooks.echo ?? ((data: unknown, ack: (reply: unknown) => void) => ack(data));
  const http = createServer();
  const io = new Server(
    http,
    config.engine === 'eiows' ? { wsEngine: (await eiowsServer()) as never } : {},
  );
  const redis = config.redis ? await redisAdapter(config.redis) : undefined;
  if (redis) io.adapter(redis.adapter);
  io.on('connection', (socket) => {
    hooks.connected?.(socket);
    socket.on('echo', echo);
    socket.on('join', (room: string, ack: (reply: unknown) => void) => {
      void Promise.resolve(socket.join(room)).then(() => ack(true));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    port: (http.address() as AddressInfo).port,
    broadcast: (event, data, room) => {
      if (room) io.to(room).emit(event, data);
      else io.emit(event, data);
    },
    emitVia: (via, event, data) => {
      if (via === 'room') io.to(ALL_ROOM).emit(event, data);
      else io.emit(event, data);
    },
    close: async () => {
      await io.close();
      await redis?.close();
    },
  };
}

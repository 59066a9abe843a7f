import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { ALL_ROOM, type ServerConfig } from '../protocol.js';
import { redisAdapter, type BenchServer } from './bench-server.js';

/** Raw socket.io on a Node HTTP server: the baseline. */
export async function startRaw(config: ServerConfig): Promise<BenchServer> {
  const http = createServer();
  const io = new Server(http);
  const redis = config.redis ? await redisAdapter(config.redis) : undefined;
  if (redis) io.adapter(redis.adapter);
  io.on('connection', (socket) => {
    socket.on('echo', (data: unknown, ack: (reply: unknown) => void) => ack(data));
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

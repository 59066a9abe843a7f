// An application process of the message-queue tests: started by queue-cluster.ts (compiled with
// tsc, run with child_process.fork), it runs SocketService operations its parent asks for over IPC.
import 'reflect-metadata';
import { Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import {
  PresenceService,
  SocketIOModule,
  SocketService,
  type SocketIOModuleOptions,
} from '../../lib/index.js';
import { PresenceGateway } from './presence-gateway.js';

export interface QueueAppConfig {
  label: string;
  options: SocketIOModuleOptions;
}

export type QueueAppRequest = { id: number; op: string; args: unknown[] };
export type QueueAppMessage =
  | { type: 'ready'; url?: string }
  | { type: 'fatal'; message: string }
  | { type: 'log'; level: string; message: string }
  | { type: 'problem'; message: string }
  | { type: 'reply'; id: number; result?: unknown; error?: { name: string; message: string } };

const send = (message: QueueAppMessage) => process.send?.(message);
const config = JSON.parse(process.env.QUEUE_APP_CONFIG ?? '{}') as QueueAppConfig;

process.on('unhandledRejection', (reason) =>
  send({
    type: 'problem',
    message: `unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`,
  }),
);
process.on('uncaughtException', (err) =>
  send({ type: 'problem', message: `uncaughtException: ${String(err?.stack ?? err)}` }),
);

const logger: LoggerService = {
  log: (message) => send({ type: 'log', level: 'log', message: String(message) }),
  error: (message) => send({ type: 'log', level: 'error', message: String(message) }),
  warn: (message) => send({ type: 'log', level: 'warn', message: String(message) }),
  debug: () => undefined,
  verbose: () => undefined,
};

@WebSocketGateway()
class ChatGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { from: config.label, data };
  }

  /** The rooms this process has for the client, as it knows them now. */
  @SubscribeMessage('local-rooms')
  localRooms(@ConnectedSocket() socket: Socket) {
    return [...socket.rooms];
  }
}

@WebSocketGateway({ namespace: '/admin' })
class AdminGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { from: config.label, data };
  }
}

const emitterOnly = config.options.emitterOnly === true;

@Module({
  imports: [SocketIOModule.forRoot({ ...config.options, logger })],
  providers: emitterOnly ? [] : [ChatGateway, AdminGateway, PresenceGateway],
})
// oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a class by design
class QueueAppModule {}

async function main() {
  const app = emitterOnly
    ? await NestFactory.createApplicationContext(QueueAppModule, {
        logger: false,
        abortOnError: false,
      })
    : await NestFactory.create(QueueAppModule, { logger: false, abortOnError: false });
  app.enableShutdownHooks();
  let url: string | undefined;
  if (!emitterOnly) {
    const http = app as Awaited<ReturnType<typeof NestFactory.create>>;
    await http.listen(0, '127.0.0.1');
    url = (await http.getUrl()).replace('[::1]', '127.0.0.1');
  }
  const sockets = app.get(SocketService);
  const presence = app.get(PresenceService);
  const operations: Record<string, (...args: any[]) => unknown> = {
    emit: (event: string, data: unknown, options: object) => sockets.emit(event, data, options),
    send: (data: unknown, options: object) => sockets.send(data, options),
    call: (event: string, data: unknown, options: any) => sockets.call(event, data, options),
    joinRoom: (room: string, options: object) => sockets.joinRoom(room, options),
    leaveRoom: (room: string, options: object) => sockets.leaveRoom(room, options),
    closeRoom: (room: string, namespace?: string) => sockets.closeRoom(room, namespace),
    rooms: (options: object) => sockets.rooms(options),
    disconnect: (options: object) => sockets.disconnect(options),
    presence: (method: 'track' | 'update' | 'untrack' | 'list', ...args: unknown[]) =>
      (presence[method] as (...a: unknown[]) => unknown)(...args),
    serverCount: (namespace = '/') => sockets.server.of(namespace).adapter.serverCount(),
    close: async () => {
      await app.close();
      setImmediate(() => process.exit(0));
    },
  };
  process.on('message', async ({ id, op, args }: QueueAppRequest) => {
    try {
      const result = await operations[op](...args);
      send({ type: 'reply', id, result });
    } catch (err) {
      const e = err as Error;
      send({ type: 'reply', id, error: { name: e.name, message: e.message } });
    }
  });
  send({ type: 'ready', url });
}

main().catch((err: Error) => {
  send({ type: 'fatal', message: err.message });
  setImmediate(() => process.exit(1));
});

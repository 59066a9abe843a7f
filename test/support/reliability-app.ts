// An application process of the reliability tests (compiled and forked like queue-app.ts): a
// gateway with slow handlers, a background task, enableShutdownHooks, and a report of what is
// still open once Nest has shut down.
import 'reflect-metadata';
import { setTimeout as delay } from 'node:timers/promises';
import { Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { SocketIOModule, SocketService, type SocketIOModuleOptions } from '../../lib/index.js';

export interface ReliabilityAppConfig {
  options: SocketIOModuleOptions;
}

export type ReliabilityAppMessage =
  | { type: 'ready'; url: string }
  | { type: 'fatal'; message: string }
  | { type: 'log'; message: string }
  | { type: 'problem'; message: string }
  | { type: 'closed'; resources: string[] }
  | { type: 'reply'; id: number; result?: unknown; error?: string };

const send = (message: ReliabilityAppMessage) => process.send?.(message);
const config = JSON.parse(process.env.RELIABILITY_APP_CONFIG ?? '{}') as ReliabilityAppConfig;

process.on('unhandledRejection', (reason) =>
  send({ type: 'problem', message: `unhandledRejection: ${String(reason)}` }),
);
process.on('uncaughtException', (err) =>
  send({ type: 'problem', message: `uncaughtException: ${String(err?.stack ?? err)}` }),
);

const logger: LoggerService = {
  log: () => undefined,
  error: (message) => send({ type: 'problem', message: `logged error: ${String(message)}` }),
  warn: (message) => send({ type: 'log', message: `warn: ${String(message)}` }),
};

let inFlight = 0;

@WebSocketGateway()
class WorkGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }

  @SubscribeMessage('slow')
  async slow(@MessageBody() ms: number) {
    inFlight++;
    await delay(ms);
    inFlight--;
    return { done: ms };
  }
}

@Module({
  imports: [SocketIOModule.forRoot({ ...config.options, logger })],
  providers: [WorkGateway],
})
// oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a class by design
class ReliabilityAppModule {}

async function main() {
  const app = await NestFactory.create(ReliabilityAppModule, { logger: false });
  app.enableShutdownHooks();
  // Nest closes the app on the first SIGTERM, then raises it again once done: that second one
  // lands here, so the process can report what is still open and then end on its own.
  let signals = 0;
  process.on('SIGTERM', () => {
    if (++signals < 2) return;
    setImmediate(() => {
      const resources = process
        .getActiveResourcesInfo()
        .filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap');
      send({ type: 'closed', resources });
      process.disconnect?.();
    });
  });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const sockets = app.get(SocketService);
  const operations: Record<string, (...args: any[]) => unknown> = {
    inFlight: () => inFlight,
    clients: () => sockets.server.engine.clientsCount,
    emit: (event: string, data: unknown, options: object) => sockets.emit(event, data, options),
    startTask: () => {
      sockets.startBackgroundTask(async (signal) => {
        send({ type: 'log', message: 'task started' });
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        await delay(200); // cleanup the shutdown must wait for
        send({ type: 'log', message: 'task finished' });
      });
    },
  };
  process.on('message', async ({ id, op, args }: { id: number; op: string; args: unknown[] }) => {
    try {
      send({ type: 'reply', id, result: await operations[op]!(...args) });
    } catch (err) {
      send({ type: 'reply', id, error: String(err) });
    }
  });
  send({ type: 'ready', url });
}

main().catch((err: Error) => {
  send({ type: 'fatal', message: err.message });
  setImmediate(() => process.exit(1));
});

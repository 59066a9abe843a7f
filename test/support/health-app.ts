import diagnostics from 'node:diagnostics_channel';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import {
  QUEUE_CHANNEL,
  SocketIOHealthIndicator,
  SocketIOModule,
  type SocketIOModuleOptions,
  type SocketQueueMessage,
} from 'nest-socketio';
import { expect } from 'vitest';
import { startApp } from './app.js';
import { ObservedGateway, PrivateGateway } from './observability-app.js';

/** `GET /health`: terminus with the module's indicator only. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly socketio: SocketIOHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.socketio.isHealthy('socketio')]);
  }
}

/** An app with the observed gateways and a terminus health endpoint. */
export async function startHealthApp(
  options: SocketIOModuleOptions,
): Promise<{ app: INestApplication; url: string }> {
  return startApp({
    imports: [SocketIOModule.forRoot({ logger: false, ...options }), TerminusModule],
    controllers: [HealthController],
    providers: [ObservedGateway, PrivateGateway],
  });
}

/** What `GET /health` answers: its HTTP status and body. */
export async function getHealth(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/health`);
  return { status: res.status, body: await res.json() };
}

/** Resolves with the next message on nest-socketio:queue that matches. */
export function queueMessage(
  match: (m: SocketQueueMessage) => boolean,
): Promise<SocketQueueMessage> {
  return new Promise((resolve) => {
    const listener = (message: unknown) => {
      if (!match(message as SocketQueueMessage)) return;
      diagnostics.unsubscribe(QUEUE_CHANNEL, listener);
      resolve(message as SocketQueueMessage);
    };
    diagnostics.subscribe(QUEUE_CHANNEL, listener);
  });
}

/** Asserts that `GET /health` answers 503: the queue down, one client served, and the reason. */
export async function expectQueueDown(url: string, reason: string): Promise<void> {
  const down = await getHealth(url);
  expect(down.status).toBe(503);
  expect(down.body.error.socketio).toMatchObject({
    status: 'down',
    messageQueue: 'down',
    connections: 1,
  });
  expect(down.body.error.socketio.reason).toContain(reason);
}

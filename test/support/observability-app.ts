import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { BadRequestException, type CanActivate, Injectable, UseGuards } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { trace } from '@opentelemetry/api';
import type { Socket } from 'socket.io';
import {
  ConnectionRefusedError,
  EventName,
  SocketIOModule,
  type SocketIOModuleOptions,
} from 'nest-socketio';
import { startApp } from './app.js';

/** An APM's own store, which the tests bind to the event tracing channel's start. */
export const apmStore = new AsyncLocalStorage<{ traced: string }>();

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

/** Handlers for the observability tests: each ends in one outcome. */
@WebSocketGateway()
export class ObservedGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }

  @SubscribeMessage('later')
  async later(@MessageBody() data: unknown) {
    await delay(5);
    return data;
  }

  @SubscribeMessage('hang')
  hang() {
    return new Promise(() => {});
  }

  @SubscribeMessage('boom')
  boom() {
    throw new Error('unexpected failure');
  }

  @SubscribeMessage('bad')
  async bad() {
    await delay(1);
    throw new BadRequestException('bad input');
  }

  /** Refused by a guard: Nest's own chain runs, and its exception filter sends the reply. */
  @UseGuards(DenyGuard)
  @SubscribeMessage('guarded')
  guarded() {
    return 'never';
  }

  /** Does some work of its own under a span, as a database client would, and tells which trace it is in. */
  @SubscribeMessage('traced')
  async traced() {
    const active = trace.getActiveSpan()?.spanContext();
    await trace.getTracer('test-db').startActiveSpan('db.query', async (span) => {
      await delay(2);
      span.end();
    });
    return active ? { traceId: active.traceId, spanId: active.spanId } : 'no span';
  }

  /** Calls an HTTP service, as a handler that fetches from another API does. */
  @SubscribeMessage('upstream')
  upstream(@MessageBody() url: string) {
    return new Promise((resolve, reject) => {
      http
        .get(url, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  }

  /** What an APM that bound its store to the tracing channel sees while the handler runs. */
  @SubscribeMessage('apm')
  async apm() {
    await delay(1);
    return apmStore.getStore() ?? null;
  }

  @SubscribeMessage('*')
  any(@EventName() name: string) {
    return name;
  }
}

/** A namespace that refuses clients without the right token. */
@WebSocketGateway({ namespace: '/private' })
export class PrivateGateway {
  handleConnection(socket: Socket) {
    if (socket.handshake.auth?.token !== 'ok') throw new ConnectionRefusedError('bad token');
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

/** A logger that keeps every line, by level. */
export class RecordingLogger {
  readonly lines: { level: string; message: string }[] = [];
  log(message: string) {
    this.lines.push({ level: 'log', message });
  }
  error(message: string) {
    this.lines.push({ level: 'error', message });
  }
  warn(message: string) {
    this.lines.push({ level: 'warn', message });
  }
  debug(message: string) {
    this.lines.push({ level: 'debug', message });
  }
  verbose(message: string) {
    this.lines.push({ level: 'verbose', message });
  }
  find(level: string, text: string) {
    return this.lines.find((l) => l.level === level && l.message.includes(text));
  }
}

/** An app with the observed gateways and these module options (quiet unless a logger is given). */
export function startObservedApp(options: SocketIOModuleOptions = {}) {
  return startApp({
    imports: [SocketIOModule.forRoot({ logger: false, ...options })],
    providers: [ObservedGateway, PrivateGateway],
  });
}

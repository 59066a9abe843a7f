import type { INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, type SocketIOModuleOptions } from 'nest-socketio';
import { closeClients, startApp } from '../../support/app.js';
import { rawPolling, rawWebSocket, type RawClient } from '../../support/raw-client.js';

/** Greets each client from handleConnection, before socket.io has accepted it. */
@WebSocketGateway()
class GreetingGateway {
  handleConnection(socket: Socket) {
    socket.emit('hello', { early: true });
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

let app: INestApplication | undefined;
const raws: RawClient[] = [];

async function start(options: SocketIOModuleOptions = {}) {
  const started = await startApp({
    imports: [SocketIOModule.forRoot({ logger: false, ...options })],
    providers: [GreetingGateway],
  });
  app = started.app;
  return started.url;
}

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.close();
  closeClients();
  await app?.close();
  app = undefined;
});

describe('packet order', () => {
  for (const [transport, open] of [
    ['websocket', rawWebSocket],
    ['polling', rawPolling],
  ] as const) {
    it(`sends CONNECT before what handleConnection emits (${transport})`, async () => {
      const url = await start();
      const raw = await open(url);
      raws.push(raw);
      await raw.send('0');
      const [first, second] = await raw.waitFor(2);
      expect(first).toMatch(/^0\{"sid":"[\w-]+"/);
      expect(second).toBe('2["hello",{"early":true}]');
    });
  }
});

import { Injectable, type CanActivate, type INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SocketIOModule, UseConnectionGuards, type SocketIOModuleOptions } from 'nest-socketio';
import { closeClients, connect, startApp } from '../../support/app.js';
import { rawPolling, rawWebSocket, type RawClient } from '../../support/raw-client.js';

const counts = { connections: 0, guards: 0 };
let releaseGuards: () => void = () => undefined;
let guardsHeld = new Promise<void>((resolve) => (releaseGuards = resolve));

/** Admits every client, once released; counts its runs. */
@Injectable()
class CountingGuard implements CanActivate {
  async canActivate() {
    counts.guards++;
    await guardsHeld;
    return true;
  }
}

@UseConnectionGuards(CountingGuard)
@WebSocketGateway({ namespace: /^\/room-\d+$/ })
class GuardedGateway {
  handleConnection() {
    counts.connections++;
  }
}

/** Greets each client from handleConnection, before socket.io has accepted it. */
@WebSocketGateway()
class GreetingGateway {
  handleConnection(socket: Socket) {
    counts.connections++;
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
    providers: [GreetingGateway, GuardedGateway, CountingGuard],
  });
  app = started.app;
  return started.url;
}

beforeEach(() => {
  counts.connections = 0;
  counts.guards = 0;
  guardsHeld = new Promise<void>((resolve) => (releaseGuards = resolve));
});

afterEach(async () => {
  releaseGuards();
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

/** Rejects when `promise` takes more than 5 s. */
function within<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('not within 5 s')), 5000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** One polling POST carrying `count` copies of a Socket.IO packet. */
const flood = (packet: string, count: number) => Array(count).fill(`4${packet}`).join('\x1e');

describe('one socket per namespace per connection', () => {
  for (const alwaysConnect of [false, true]) {
    it(`refuses repeated CONNECT packets and closes the connection (alwaysConnect: ${alwaysConnect})`, async () => {
      const url = await start({ alwaysConnect });
      const raw = await rawPolling(url);
      raws.push(raw);
      await raw.post(flood('0', 2000));
      await within(raw.closed);
      // The first may be accepted (with alwaysConnect its handleConnection may not have run
      // before the connection was closed); none of the others is.
      expect(counts.connections).toBeLessThanOrEqual(1);
      // A well-behaved client is served as before.
      const c = await connect(url);
      expect(await c.emitWithAck('echo', 'still')).toBe('still');
      expect(counts.connections).toBeGreaterThanOrEqual(1);
    });
  }

  it('runs the guards once for a namespace asked for many times while it is admitted', async () => {
    const url = await start();
    const raw = await rawWebSocket(url);
    raws.push(raw);
    await raw.send('0/room-1,{"token":"x"}');
    await raw.send('0/room-1,{"token":"x"}');
    const [refused] = await raw.waitFor(1);
    expect(refused).toBe('4/room-1,{"message":"Already connected to this namespace"}');
    releaseGuards();
    const [, accepted] = await raw.waitFor(2);
    expect(accepted).toMatch(/^0\/room-1,\{"sid"/);
    expect(counts.guards).toBe(1);
  });

  it('bounds the admissions one connection has under way', async () => {
    const url = await start();
    const raw = await rawPolling(url);
    raws.push(raw);
    const connects = Array.from({ length: 30 }, (_, i) => `40/room-${i},`).join('\x1e');
    await raw.post(connects);
    await within(raw.closed);
    expect(counts.guards).toBe(8);
  });
});

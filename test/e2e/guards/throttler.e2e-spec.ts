import { UseGuards, type INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, socketThrottlerTracker } from 'nest-socketio';
import { closeClients, connect, startApp } from '../../support/app.js';
import { ReliabilityGateway } from '../../support/reliability-fixtures.js';
import { NEST_MAJOR } from '../../support/nest-version.js';

/** Nest 11 runs no global guard on gateway handlers: there the guard goes on the gateway. */
@WebSocketGateway()
@UseGuards(ThrottlerGuard)
class GuardedEchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

let app: INestApplication | undefined;

afterEach(async () => {
  closeClients();
  await app?.close();
  app = undefined;
});

async function start(getTracker?: typeof socketThrottlerTracker) {
  const started = await startApp({
    imports: [
      SocketIOModule.forRoot({ logger: false }),
      ThrottlerModule.forRoot({ throttlers: [{ limit: 3, ttl: 60_000 }], getTracker }),
    ],
    providers:
      NEST_MAJOR >= 12
        ? [ReliabilityGateway, { provide: APP_GUARD, useClass: ThrottlerGuard }]
        : [GuardedEchoGateway],
  });
  app = started.app;
  return started.url;
}

const throttled = { error: { status: 429, message: 'ThrottlerException: Too Many Requests' } };

describe('@nestjs/throttler with sockets', () => {
  it('with socketThrottlerTracker, each client address has its own bucket', async () => {
    const url = await start(socketThrottlerTracker);
    const a = await connect(url);
    // Another client address: loopback answers on all of 127.0.0.0/8.
    const b = await connect(url, { localAddress: '127.0.0.2' } as object);
    for (let i = 0; i < 3; i++) expect(await a.emitWithAck('echo', i)).toBe(i);
    expect(await a.emitWithAck('echo', 4)).toEqual(throttled);
    expect(await b.emitWithAck('echo', 'b')).toBe('b');
  });

  it("without it, every socket shares one bucket (the throttler's default reads req.ip)", async () => {
    const url = await start();
    const a = await connect(url);
    const b = await connect(url, { localAddress: '127.0.0.2' } as object);
    for (let i = 0; i < 3; i++) expect(await a.emitWithAck('echo', i)).toBe(i);
    expect(await b.emitWithAck('echo', 'b')).toEqual(throttled);
  });
});

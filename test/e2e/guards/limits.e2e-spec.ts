import { setTimeout as delay } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, type SocketIOModuleOptions } from 'nest-socketio';
import { closeClients, connect, next, startApp } from '../../support/app.js';
import {
  pollingHandshake,
  pollingPost,
  ReliabilityGateway,
} from '../../support/reliability-fixtures.js';

let app: INestApplication | undefined;

async function start(options: SocketIOModuleOptions) {
  const started = await startApp({
    imports: [SocketIOModule.forRoot({ logger: false, ...options })],
    providers: [ReliabilityGateway],
  });
  app = started.app;
  return started.url;
}

afterEach(async () => {
  closeClients();
  await app?.close();
  app = undefined;
});

describe('maxHttpBufferSize', () => {
  it('closes a websocket that sends a larger packet, and keeps serving the others', async () => {
    const url = await start({ maxHttpBufferSize: 1000 });
    const bystander = await connect(url);
    const abuser = await connect(url);
    expect(await abuser.emitWithAck('echo', 'x'.repeat(900))).toHaveLength(900);
    const gone = next<string>(abuser, 'disconnect');
    abuser.emit('echo', 'x'.repeat(2000));
    expect(await gone).toBe('transport close');
    expect(await bystander.emitWithAck('echo', 'still here')).toBe('still here');
  });

  it('answers 413 to a larger polling POST, and keeps serving the others', async () => {
    const url = await start({ maxHttpBufferSize: 1000 });
    const bystander = await connect(url, { transports: ['polling'] });
    const { sid } = await pollingHandshake(url);
    expect(await pollingPost(url, sid, '40')).toBe(200);
    expect(await pollingPost(url, sid, `42["echo","${'y'.repeat(2000)}"]`)).toBe(413);
    expect(await bystander.emitWithAck('echo', 'still here')).toBe('still here');
  });
});

describe('rateLimit', () => {
  it('answers excess events with 429 through the ack, or as an exception event', async () => {
    const url = await start({ rateLimit: { points: 5, duration: 60_000 } });
    const c = await connect(url);
    const other = await connect(url);
    for (let i = 0; i < 5; i++) expect(await c.emitWithAck('echo', i)).toBe(i);
    expect(await c.emitWithAck('echo', 6)).toEqual({
      error: { status: 429, message: 'Too Many Requests' },
    });
    const exception = next(c, 'exception');
    c.emit('echo', 7);
    expect(await exception).toEqual({ error: { status: 429, message: 'Too Many Requests' } });
    // The limit is per connection: another client is not affected.
    expect(await other.emitWithAck('echo', 'ok')).toBe('ok');
    expect(c.connected).toBe(true);
  });

  it('lets a client in again once its window has passed', async () => {
    const url = await start({ rateLimit: { points: 2, duration: 300 } });
    const c = await connect(url);
    expect(await c.emitWithAck('echo', 1)).toBe(1);
    expect(await c.emitWithAck('echo', 2)).toBe(2);
    expect(await c.emitWithAck('echo', 3)).toEqual({
      error: { status: 429, message: 'Too Many Requests' },
    });
    await delay(350); // the window itself is what is being tested
    expect(await c.emitWithAck('echo', 4)).toBe(4);
  });

  it('disconnects a client that keeps going over the limit', async () => {
    const url = await start({ rateLimit: { points: 3, duration: 60_000, disconnectAfter: 2 } });
    const c = await connect(url);
    const replies: unknown[] = [];
    const gone = next<string>(c, 'disconnect');
    for (let i = 0; i < 5; i++) c.emit('echo', i, (reply: unknown) => replies.push(reply));
    expect(await gone).toBe('io server disconnect');
    // Every answer arrives before the disconnect (the refusals may overtake the echoes).
    expect(replies.filter((r) => typeof r === 'number').toSorted()).toEqual([0, 1, 2]);
    expect(replies.filter((r) => typeof r === 'object')).toEqual([
      { error: { status: 429, message: 'Too Many Requests' } },
      { error: { status: 429, message: 'Too Many Requests' } },
    ]);
  });
});

describe('handlerTimeout', () => {
  it('answers a handler that never finishes with 504, and lets fast ones through', async () => {
    const url = await start({ handlerTimeout: 200 });
    const c = await connect(url);
    const started = Date.now();
    expect(await c.emitWithAck('hang')).toEqual({
      error: { status: 504, message: 'Gateway Timeout' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(await c.emitWithAck('slow', 20)).toEqual({ waited: 20 });
    expect(await c.emitWithAck('echo', 'fast')).toBe('fast');
    const exception = next(c, 'exception');
    c.emit('hang');
    expect(await exception).toEqual({ error: { status: 504, message: 'Gateway Timeout' } });
  });

  it('drops the late result of a handler that finished after the limit', async () => {
    const url = await start({ handlerTimeout: 100 });
    const c = await connect(url);
    const acks: unknown[] = [];
    const late = new Promise<void>((resolve) =>
      c.emit('slow', 300, (reply: unknown) => {
        acks.push(reply);
        resolve();
      }),
    );
    await late;
    expect(acks).toEqual([{ error: { status: 504, message: 'Gateway Timeout' } }]);
    // The late handler's completion must not surface as anything else on the client.
    const echoed = await c.emitWithAck('slow', 250);
    expect(echoed).toEqual({ error: { status: 504, message: 'Gateway Timeout' } });
    expect(await c.emitWithAck('echo', 'after')).toBe('after');
  });
});

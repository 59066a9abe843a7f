import { setTimeout as delay } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService, type SocketIOModuleOptions } from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';
import {
  pollingHandshake,
  pollingPost,
  ReliabilityGateway,
} from '../../support/reliability-fixtures.js';
import { stallReading } from '../../support/stalled-client.js';

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

describe('maxBufferedBytes', () => {
  it('closes the connection of a client that stops reading, and only that one', async () => {
    const url = await start({ maxBufferedBytes: 1_000_000 });
    const sockets = app!.get(SocketService);
    const reader = await connect(url);
    const pollingReader = await connect(url, { transports: ['polling'] });
    const stalled = await connect(url);
    const onServer = sockets.server.of('/').sockets.get(stalled.id!)!;
    // The stalled client's TCP socket stops reading: what the server sends piles up.
    const state = stallReading(stalled, onServer);
    const chunk = 'x'.repeat(100_000);
    let sent = 0;
    // 60 MB at the pace the reader reads: far past what the stalled one may hold.
    for (; sent < 600 && !state.closed; sent++) {
      const got = Promise.all([next(reader, 'chunk'), next(pollingReader, 'chunk')]);
      sockets.emit('chunk', chunk, { to: [reader.id!, pollingReader.id!, stalled.id!] });
      await got;
    }
    expect(state.closed).toBe(true);
    expect(await state.gone).toBe('forced close');
    // Readers on both transports received more than the limit in all, and stay connected.
    expect(sent * chunk.length).toBeGreaterThan(1_000_000);
    expect(reader.connected && pollingReader.connected).toBe(true);
    expect(await pollingReader.emitWithAck('echo', 'ok')).toBe('ok');
    expect(await reader.emitWithAck('echo', 'ok')).toBe('ok');
    // Else the server's close handshake with the stalled client waits for ws's 30 s timeout.
    state.release();
  });
});

describe('shutdownGrace', () => {
  it('bounds how long closing waits for a handler that never answers', async () => {
    const url = await start({ shutdownGrace: 100 });
    const c = await connect(url);
    c.emit('hang');
    // Handled in order: once the echo answers, the hanging handler is in flight.
    expect(await c.emitWithAck('echo', 1)).toBe(1);
    const closing = Date.now();
    await app!.close();
    app = undefined;
    // The default grace (3 s) would still be waiting.
    expect(Date.now() - closing).toBeLessThan(2000);
  });
});

describe('rateLimit', () => {
  it('answers excess events with 429 through the ack, or as an exception event', async () => {
    const url = await start({
      rateLimit: { points: 6, duration: 60_000, key: (s) => String(s.handshake.auth.user) },
    });
    // The connection attempt is the first of the six points.
    const c = await connect(url, { auth: { user: 'c' } });
    const other = await connect(url, { auth: { user: 'other' } });
    for (let i = 0; i < 5; i++) expect(await c.emitWithAck('echo', i)).toBe(i);
    expect(await c.emitWithAck('echo', 6)).toEqual({
      error: { status: 429, message: 'Too Many Requests' },
    });
    const exception = next(c, 'exception');
    c.emit('echo', 7);
    expect(await exception).toEqual({ error: { status: 429, message: 'Too Many Requests' } });
    // The limit is per key: another user is not affected.
    expect(await other.emitWithAck('echo', 'ok')).toBe('ok');
    expect(c.connected).toBe(true);
  });

  it('holds across reconnections: it counts per address, connection attempts included', async () => {
    const url = await start({ rateLimit: { points: 3, duration: 60_000 } });
    const c = await connect(url);
    expect(await c.emitWithAck('echo', 1)).toBe(1);
    expect(await c.emitWithAck('echo', 2)).toBe(2);
    expect(await c.emitWithAck('echo', 3)).toEqual({
      error: { status: 429, message: 'Too Many Requests' },
    });
    c.disconnect();
    // A new connection from the same address starts with no points left.
    const again = client(url);
    expect((await next<Error>(again, 'connect_error')).message).toBe('Too Many Requests');
  });

  it('lets a client in again once its window has passed', async () => {
    const url = await start({ rateLimit: { points: 3, duration: 300 } });
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
    const url = await start({ rateLimit: { points: 4, duration: 60_000, disconnectAfter: 2 } });
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

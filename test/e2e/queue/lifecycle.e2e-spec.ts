import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService, type SocketIOModuleOptions } from 'nest-socketio';
import { connect, closeClients, next, startApp } from '../../support/app.js';
import {
  AMQP_URL,
  holdLock,
  NATS_URL,
  POSTGRES_URL,
  REDIS_URL,
  requireService,
} from '../../support/services.js';

/** Open TCP sockets of this process (the queue's connections among them). */
const tcpSockets = () =>
  process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

/** Waits until the count of open sockets is back to `count` (closing a socket takes a tick). */
async function socketsBackTo(count: number): Promise<number> {
  const deadline = Date.now() + 5000;
  while (tcpSockets() > count && Date.now() < deadline) {
    await new Promise((r) => setImmediate(r));
  }
  return tcpSockets();
}

// The module owns the connections it opens from the URL: closing the app closes them.
describe('message queue: connections are owned by the module', () => {
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    await requireService('Redis', 6379);
    await requireService('PostgreSQL', 5432);
    await requireService('RabbitMQ', 5672);
    await requireService('NATS', 4222);
    // Another file restarts RabbitMQ: not while this one uses it.
    release = await holdLock('rabbitmq');
  }, 300_000);
  afterAll(() => release?.());

  const cases: [string, SocketIOModuleOptions][] = [
    ['redis', { messageQueue: REDIS_URL }],
    ['redis-sharded', { messageQueue: { type: 'redis-sharded', url: REDIS_URL } }],
    ['redis-streams', { messageQueue: { type: 'redis-streams', url: REDIS_URL } }],
    ['postgres', { messageQueue: POSTGRES_URL }],
    ['amqp', { messageQueue: AMQP_URL }],
    ['nats', { messageQueue: NATS_URL }],
  ];

  it.each(cases)(
    '%s: an app serves, then closes every connection it opened',
    async (_, options) => {
      const before = tcpSockets();
      const { app, url } = await startApp({
        imports: [
          SocketIOModule.forRoot({ ...options, channel: `life-${randomUUID().slice(0, 8)}` }),
        ],
      });
      const client = await connect(url);
      const got = next(client, 'hi');
      app.get(SocketService).emit('hi', 'through the queue');
      expect(await got).toBe('through the queue');
      closeClients();
      await app.close();
      expect(await socketsBackTo(before)).toBe(before);
    },
  );

  it.each([
    ['redis', REDIS_URL],
    ['postgres', POSTGRES_URL],
    ['amqp', AMQP_URL],
    ['nats', NATS_URL],
  ])('%s: an emitter-only worker closes its connection', async (_, messageQueue) => {
    const before = tcpSockets();
    const moduleRef = await Test.createTestingModule({
      imports: [SocketIOModule.forRoot({ messageQueue, emitterOnly: true, logger: false })],
    }).compile();
    // A TestingModule is an application context: no HTTP server, as in a worker.
    await moduleRef.init();
    const sockets = moduleRef.get(SocketService);
    sockets.emit('anything', 1);
    expect(() => sockets.server).toThrow('needs a Socket.IO server');
    await moduleRef.close();
    expect(await socketsBackTo(before)).toBe(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import { closeClients, connect, next } from '../../support/app.js';
import type { MessageQueueOptions } from 'nest-socketio';
import { removeBuilds } from '../../support/build-fixture.js';
import {
  deliveredEventually,
  startNode,
  stopNodes,
  waitForServers,
  type QueueNode,
} from '../../support/queue-cluster.js';
import {
  freePort,
  holdLock,
  OwnNats,
  OwnRedis,
  SharedRabbitMQ,
  type RestartableBroker,
} from '../../support/services.js';

/** Polls a condition (a log line, a delivery) until it holds. */
async function eventually<T>(
  what: string,
  attempt: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Case {
  type: MessageQueueOptions['type'];
  broker: () => Promise<RestartableBroker>;
  /** A lock held while the broker is down (it is shared with other test files). */
  lock?: string;
}

const cases: Case[] = [
  { type: 'redis', broker: async () => new OwnRedis(await freePort()) },
  { type: 'redis-streams', broker: async () => new OwnRedis(await freePort()) },
  // RabbitMQ takes seconds to boot a node of its own: the machine's broker is restarted instead.
  { type: 'amqp', broker: async () => new SharedRabbitMQ(), lock: 'rabbitmq' },
  { type: 'nats', broker: async () => new OwnNats(await freePort()) },
];

// The broker is stopped and started again while two processes run on it.
describe.each(cases)(
  'message queue ($type): losing the broker while running',
  ({ type, broker: makeBroker, lock }) => {
    let broker: RestartableBroker;
    let release: (() => Promise<void>) | undefined;
    let x: QueueNode, y: QueueNode;
    let onX: ClientSocket, onY: ClientSocket;

    beforeAll(async () => {
      if (lock) release = await holdLock(lock);
      broker = await makeBroker();
      await broker.start();
      [x, y] = await Promise.all(
        ['X', 'Y'].map((label) =>
          startNode(label, {
            messageQueue: { type, url: broker.url, adapterOptions: { heartbeatInterval: 300 } },
            channel: `restart-${type}`,
          }),
        ),
      );
      await waitForServers([x, y], 2);
      [onX, onY] = await Promise.all([connect(x.url), connect(y.url)]);
    }, 300_000);
    afterAll(async () => {
      closeClients();
      await stopNodes();
      // The machine's broker stays up for everyone else; a broker of our own goes.
      if (lock) await broker?.start();
      else await broker?.stop();
      await release?.();
      await removeBuilds();
    });

    it('keeps local clients served, logs the loss, and resumes delivery when the broker returns', async () => {
      await deliveredEventually(y, onX);

      await broker.stop();
      for (const node of [x, y]) {
        const line = await eventually('the loss to be logged', () =>
          node.logs.find((l) => l.level === 'error' && l.message.includes('lost the connection')),
        );
        expect(line.message).toContain(broker.label);
        expect(line.message).toContain('Local clients are still served');
      }
      // Local clients are still served: handlers answer, and a process still reaches its own clients.
      expect(await onX.timeout(5000).emitWithAck('echo', 'still here')).toEqual({
        from: 'X',
        data: 'still here',
      });
      const local = next(onY, 'local');
      await y.request('emit', 'local', 'during the outage');
      expect(await local).toBe('during the outage');
      const direct = next(onX, 'direct');
      await x.request('emit', 'direct', 'to my own client', { to: onX.id });
      expect(await direct).toBe('to my own client');

      await broker.start();
      await deliveredEventually(y, onX);
      await deliveredEventually(x, onY);
      for (const node of [x, y]) {
        await eventually('the reconnection to be logged', () =>
          node.logs.find((l) => l.message.includes(`connected to ${broker.label} again`)),
        );
      }
      // Room helpers work across processes again, once each process has heard the other's
      // heartbeat (a broadcast may be delivered before X counts Y among the servers that answer).
      await waitForServers([x, y], 2);
      await x.request('joinRoom', 'after', { sid: onY.id });
      const inRoom = next(onY, 'room');
      await x.request('emit', 'room', 'back', { to: 'after' });
      expect(await inRoom).toBe('back');

      for (const node of [x, y]) {
        expect(node.alive).toBe(true);
        expect(node.problems).toEqual([]);
      }
    });
  },
);

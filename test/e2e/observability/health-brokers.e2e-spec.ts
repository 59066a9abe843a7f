import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageQueueOptions } from 'nest-socketio';
import { closeClients, connect } from '../../support/app.js';
import {
  expectQueueDown,
  getHealth,
  queueMessage,
  startHealthApp,
} from '../../support/health-app.js';
import {
  freePort,
  holdLock,
  OwnNats,
  SharedRabbitMQ,
  type RestartableBroker,
} from '../../support/services.js';

interface Case {
  type: MessageQueueOptions['type'];
  broker: () => Promise<RestartableBroker>;
  /** A lock held while the broker may go down (it is shared with other test files). */
  lock?: string;
}

const cases: Case[] = [
  // RabbitMQ takes seconds to boot a node of its own: the machine's broker is restarted instead.
  { type: 'amqp', broker: async () => new SharedRabbitMQ(), lock: 'rabbitmq' },
  { type: 'nats', broker: async () => new OwnNats(await freePort()) },
];

// The broker queues report their connection through the same channel and health check as the
// Redis and PostgreSQL ones (see health.e2e-spec.ts).
describe.each(cases)(
  'SocketIOHealthIndicator during a $type outage',
  ({ type, broker: make, lock }) => {
    let broker: RestartableBroker;
    let release: (() => Promise<void>) | undefined;
    let app: INestApplication | undefined;

    beforeAll(async () => {
      if (lock) release = await holdLock(lock);
      broker = await make();
      await broker.start();
    }, 300_000);
    afterAll(async () => {
      closeClients();
      await app?.close();
      // The machine's broker stays up for everyone else; a broker of our own goes.
      if (lock) await broker?.start();
      else await broker?.stop();
      await release?.();
    });

    it('is down with the reason while the broker is down, and up again when it is back', async () => {
      const started = await startHealthApp({
        messageQueue: { type, url: broker.url },
        channel: `health-${type}-${randomUUID()}`,
      });
      app = started.app;
      const { url } = started;
      await connect(url);
      const up = await getHealth(url);
      expect(up.status).toBe(200);
      expect(up.body.info.socketio).toMatchObject({ status: 'up', messageQueue: 'up' });

      const lost = queueMessage((m) => m.state === 'down');
      await broker.stop();
      expect(await lost).toMatchObject({ state: 'down', queue: broker.label, role: 'broker' });
      await expectQueueDown(url, `message queue unreachable: ${broker.label} (broker)`);

      const back = queueMessage((m) => m.state === 'up');
      await broker.start();
      expect(await back).toMatchObject({ state: 'up', queue: broker.label, role: 'broker' });
      const again = await getHealth(url);
      expect(again.status).toBe(200);
      expect(again.body.info.socketio).toMatchObject({ status: 'up', messageQueue: 'up' });
    }, 120_000);
  },
);

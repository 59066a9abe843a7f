import type { MessageQueueOptions } from '../interfaces/socket-io-module-options.interface.js';
import type { MessageQueueKind } from './message-queue.interface.js';
import { createAmqpQueue } from './amqp-queue.js';
import { createNatsQueue } from './nats-queue.js';
import { createPostgresQueue } from './postgres-queue.js';
import { createRedisQueue } from './redis-queue.js';

/**
 * Every kind of message queue the `messageQueue` option knows. A new kind is one entry here
 * (its URL schemes, its `type`, and a `connect` that returns a `MessageQueue`); the option's
 * validation and the start-up messages follow from this list.
 */
export const MESSAGE_QUEUE_KINDS: readonly MessageQueueKind[] = [
  redis('redis', ['redis', 'rediss']),
  redis('redis-sharded', []),
  redis('redis-streams', []),
  {
    type: 'postgres',
    schemes: ['postgres', 'postgresql'],
    service: 'PostgreSQL',
    defaultPort: 5432,
    connect: createPostgresQueue,
  },
  {
    type: 'amqp',
    schemes: ['amqp', 'amqps'],
    service: 'RabbitMQ',
    defaultPort: 5672,
    schemePorts: { amqps: 5671 },
    connect: createAmqpQueue,
  },
  { type: 'nats', schemes: ['nats'], service: 'NATS', defaultPort: 4222, connect: createNatsQueue },
];

function redis(type: string, schemes: string[]): MessageQueueKind {
  return { type, schemes, service: 'Redis', defaultPort: 6379, connect: createRedisQueue };
}

/** The kind a `messageQueue` option selects: by `type`, or by the scheme of its URL. */
export function messageQueueKind(
  option: string | MessageQueueOptions,
): MessageQueueKind | undefined {
  if (typeof option !== 'string') return MESSAGE_QUEUE_KINDS.find((k) => k.type === option.type);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(option)?.[1]?.toLowerCase();
  return MESSAGE_QUEUE_KINDS.find((k) => scheme !== undefined && k.schemes.includes(scheme));
}

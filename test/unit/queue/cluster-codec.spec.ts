import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  newProcessId,
  senderOf,
} from '../../../lib/queue/cluster-codec.js';
import { queueEndpoint } from '../../../lib/queue/queue-endpoint.js';
import { messageQueueKind } from '../../../lib/queue/queue-kinds.js';

describe('cluster message codec (AMQP and NATS queues)', () => {
  const sender = newProcessId();

  it('round-trips a broadcast and names its sender without parsing it', () => {
    const message = {
      uid: `${sender}-0`,
      nsp: '/chat',
      type: 3,
      data: { packet: { type: 2, data: ['news', { title: 'ünïcode ✓', n: 1 }], nsp: '/chat' } },
    };
    const payload = encodeMessage(sender, message);
    expect(senderOf(payload)).toBe(sender);
    expect(decodeMessage(payload)).toEqual(message);
  });

  it('keeps binary values binary, wherever they are nested', () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const view = new Uint8Array([9, 8, 7]).subarray(1);
    const buffer = new Uint8Array([5, 6]).buffer;
    const message = { data: { packet: { data: ['file', { parts: [bytes, view] }, buffer] } } };
    const decoded = decodeMessage<typeof message>(encodeMessage(sender, message));
    const [, { parts }, whole] = decoded.data.packet.data as [string, { parts: Buffer[] }, Buffer];
    expect(parts[0]).toEqual(bytes);
    expect([...parts[1]]).toEqual([8, 7]);
    expect([...whole]).toEqual([5, 6]);
  });

  it('refuses a payload that is not a cluster message', () => {
    expect(() => decodeMessage(Buffer.from('x0123456789abcdef{}'))).toThrow(
      'not a nest-socketio cluster message',
    );
  });
});

describe('queue endpoints', () => {
  it.each([
    ['amqp://guest:secret@rabbit', 'amqp', 'RabbitMQ at rabbit:5672'],
    ['amqps://guest:secret@rabbit.example.com', 'amqp', 'RabbitMQ at rabbit.example.com:5671'],
    ['nats://token@nats:4333', 'nats', 'NATS at nats:4333'],
    ['nats://127.0.0.1', 'nats', 'NATS at 127.0.0.1:4222'],
  ])('%s is %s, labelled without credentials', (url, type, label) => {
    expect(queueEndpoint(url, messageQueueKind(url)!)).toMatchObject({ type, label });
  });
});

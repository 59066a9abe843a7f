import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { SocketIOModule, type SocketIOModuleOptions } from 'nest-socketio';
import { freePort, holdLock, requireService } from '../../support/services.js';

/** Starts an app with these options and returns its start-up error message. */
async function startupError(options: SocketIOModuleOptions): Promise<string> {
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [SocketIOModule.forRoot({ ...options, logger: false })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.close();
    return 'started';
  } catch (err) {
    return (err as Error).message;
  }
}

// A message queue that does not answer at start-up stops the app with an error naming the
// service, its host and its port, and never the password of the URL.
describe('message queue: unreachable at start-up', () => {
  it('Redis: names host and port, hides the password, fails fast', async () => {
    const port = await freePort();
    const started = Date.now();
    const message = await startupError({
      messageQueue: `redis://user:s3cret-pass@127.0.0.1:${port}/0`,
    });
    expect(message).toBe(
      `SocketIOModule: cannot reach the message queue, Redis at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('every Redis flavour and an emitter-only worker fail the same way', async () => {
    const port = await freePort();
    for (const options of [
      { messageQueue: { type: 'redis-streams' as const, url: `redis://127.0.0.1:${port}` } },
      { messageQueue: { type: 'redis-sharded' as const, url: `redis://127.0.0.1:${port}` } },
      { messageQueue: `rediss://:pw-123@127.0.0.1:${port}`, emitterOnly: true },
    ]) {
      const message = await startupError(options);
      expect(message).toContain(`cannot reach the message queue, Redis at 127.0.0.1:${port}`);
      expect(message).not.toContain('pw-123');
    }
  });

  it('PostgreSQL: names host and port, hides the password', async () => {
    const port = await freePort();
    const message = await startupError({
      messageQueue: `postgres://postgres:pg-s3cret@127.0.0.1:${port}/test`,
    });
    expect(message).toBe(
      `SocketIOModule: cannot reach the message queue, PostgreSQL at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it('a wrong password is reported without the password', async () => {
    const message = await startupError({
      messageQueue: 'postgres://nosuchuser:pg-s3cret@127.0.0.1:5432/test',
    });
    expect(message).toContain('cannot reach the message queue, PostgreSQL at 127.0.0.1:5432');
    expect(message).not.toContain('pg-s3cret');
  });

  it('AMQP and NATS: name host and port, hide the password, fail fast', async () => {
    const port = await freePort();
    for (const [url, service] of [
      [`amqp://guest:amqp-s3cret@127.0.0.1:${port}`, 'RabbitMQ'],
      [`nats://natsuser:nats-s3cret@127.0.0.1:${port}`, 'NATS'],
    ]) {
      for (const emitterOnly of [false, true]) {
        const started = Date.now();
        const message = await startupError({ messageQueue: url, emitterOnly });
        expect(message).toMatch(
          new RegExp(
            `^SocketIOModule: cannot reach the message queue, ${service} at 127\\.0\\.0\\.1:${port}: .*(ECONNREFUSED|connection refused)`,
          ),
        );
        expect(message).not.toContain('s3cret');
        expect(Date.now() - started).toBeLessThan(5000);
      }
    }
  });

  it('AMQP: a wrong password is reported without the password', async () => {
    await requireService('RabbitMQ', 5672);
    // Another file restarts RabbitMQ: not meanwhile.
    const release = await holdLock('rabbitmq');
    const message = await startupError({
      messageQueue: 'amqp://guest:amqp-wr0ng@127.0.0.1:5672',
    }).finally(release);
    expect(message).toContain('cannot reach the message queue, RabbitMQ at 127.0.0.1:5672');
    expect(message).toContain('ACCESS-REFUSED');
    expect(message).not.toContain('amqp-wr0ng');
  }, 300_000);

  it('AMQP and NATS: a channel the broker cannot name is refused, naming it', async () => {
    expect(await startupError({ messageQueue: 'nats://127.0.0.1:4222', channel: 'my app.*' })).toBe(
      'SocketIOModule: channel "my app.*" is not a valid NATS subject (no spaces, "*", ">" or empty tokens)',
    );
    expect(await startupError({ messageQueue: 'amqp://127.0.0.1:5672', channel: 'my app' })).toBe(
      'SocketIOModule: channel "my app" is not a valid AMQP exchange name (letters, digits, - _ . : only)',
    );
  });

  it('emitterOnly with only a custom adapter says it needs a message queue', async () => {
    expect(await startupError({ emitterOnly: true, adapter: () => undefined })).toBe(
      'SocketIOModule option "emitterOnly" needs a messageQueue (a Redis, Postgres, AMQP or NATS URL) to emit through; the adapter option alone cannot emit without a server',
    );
  });
});

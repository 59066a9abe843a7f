import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { SocketIOModule, type SocketIOModuleOptions } from 'nest-socketio';
import { freePort } from '../../support/services.js';

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

  it('emitterOnly with only a custom adapter says it needs a message queue', async () => {
    expect(await startupError({ emitterOnly: true, adapter: () => undefined })).toBe(
      'SocketIOModule option "emitterOnly" needs a messageQueue (a Redis or Postgres URL) to emit through; the adapter option alone cannot emit without a server',
    );
  });
});

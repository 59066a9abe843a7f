import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SocketService, type SocketIOModuleOptions } from 'nest-socketio';
import { closeClients, connect } from '../../support/app.js';
import { CuttableProxy } from '../../support/cuttable-proxy.js';
import {
  expectQueueDown,
  getHealth,
  queueMessage,
  startHealthApp,
} from '../../support/health-app.js';
import { freePort, OwnRedis, requireService } from '../../support/services.js';

let app: INestApplication | undefined;

async function start(options: SocketIOModuleOptions) {
  const started = await startHealthApp(options);
  app = started.app;
  return started.url;
}

afterEach(async () => {
  closeClients();
  await app?.close();
  app = undefined;
});

describe('SocketIOHealthIndicator with @nestjs/terminus', () => {
  it('is up with the connections per namespace, and down once the server stopped serving', async () => {
    const url = await start({});
    await connect(url);
    await connect(url);
    await connect(`${url}/private`, { auth: { token: 'ok' } });
    expect(await getHealth(url)).toEqual({
      status: 200,
      body: expect.objectContaining({
        status: 'ok',
        info: {
          socketio: { status: 'up', namespaces: { '/': 2, '/private': 1 }, connections: 3 },
        },
      }),
    });
    await app!.get(SocketService).stop();
    const down = await getHealth(url);
    expect(down.status).toBe(503);
    expect(down.body.error.socketio).toMatchObject({
      status: 'down',
      reason: 'the Socket.IO server is not serving',
      connections: 0,
    });
  });

  describe('during a Redis outage', () => {
    let redis: OwnRedis;
    beforeAll(async () => {
      redis = new OwnRedis(await freePort());
      await redis.start();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('is down with the reason while Redis is down, and up again when it is back', async () => {
      const url = await start({ messageQueue: redis.url, channel: `health-${randomUUID()}` });
      await connect(url);
      const up = await getHealth(url);
      expect(up.status).toBe(200);
      expect(up.body.info.socketio).toEqual({
        status: 'up',
        namespaces: { '/': 1, '/private': 0 },
        connections: 1,
        messageQueue: 'up',
      });

      const lost = queueMessage((m) => m.state === 'down');
      await redis.stop();
      expect(await lost).toMatchObject({
        state: 'down',
        queue: `Redis at 127.0.0.1:${redis.port}`,
      });
      await expectQueueDown(url, `message queue unreachable: Redis at 127.0.0.1:${redis.port}`);

      const back = Promise.all(
        ['publisher', 'subscriber'].map((role) =>
          queueMessage((m) => m.state === 'up' && m.role === role),
        ),
      );
      await redis.start();
      await back;
      const again = await getHealth(url);
      expect(again.status).toBe(200);
      expect(again.body.info.socketio.messageQueue).toBe('up');
    });
  });

  describe('during a PostgreSQL outage', () => {
    const proxy = new CuttableProxy({ host: '127.0.0.1', port: 5432 });
    beforeAll(async () => {
      await requireService('PostgreSQL', 5432);
      await proxy.start();
    });
    afterAll(async () => {
      await proxy.stop();
    });

    it('is down with the reason while PostgreSQL is unreachable, and up again after', async () => {
      const tag = `health_${randomUUID().slice(0, 8)}`;
      const url = await start({
        messageQueue: `postgres://postgres@127.0.0.1:${proxy.port}/test`,
        channel: tag,
      });
      expect((await getHealth(url)).body.info.socketio.messageQueue).toBe('up');

      const lost = queueMessage((m) => m.state === 'down');
      proxy.cut();
      expect(await lost).toMatchObject({ state: 'down', role: 'pool' });
      const down = await getHealth(url);
      expect(down.status).toBe(503);
      expect(down.body.error.socketio.reason).toContain(
        `message queue unreachable: PostgreSQL at 127.0.0.1:${proxy.port}`,
      );

      const back = queueMessage((m) => m.state === 'up');
      proxy.restore();
      await back;
      const again = await getHealth(url);
      expect(again.status).toBe(200);
      expect(again.body.info.socketio.messageQueue).toBe('up');
    });
  });
});

import { randomUUID } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService, type MessageQueueOptions } from 'nest-socketio';
import { closeClients, connect, next, startApp } from '../../support/app.js';
import { removeBuilds } from '../../support/build-fixture.js';
import { startNode, stopNodes, waitForServers } from '../../support/queue-cluster.js';
import { REDIS_URL, requireService } from '../../support/services.js';

beforeAll(() => requireService('Redis', 6379));
afterAll(async () => {
  await stopNodes();
  await removeBuilds();
});
afterEach(() => closeClients());

// Redis 7 sharded pub/sub and Redis Streams, chosen with the object form of `messageQueue`.
describe.each(['redis-sharded', 'redis-streams'] as const)('messageQueue type %s', (type) => {
  it('emits, joins, calls and closes rooms across two processes', async () => {
    const channel = `${type}-${randomUUID().slice(0, 8)}`;
    const messageQueue: MessageQueueOptions = {
      type,
      url: REDIS_URL,
      adapterOptions: type === 'redis-streams' ? { heartbeatInterval: 300 } : {},
    };
    const [a, b] = await Promise.all(
      ['A', 'B'].map((l) => startNode(l, { messageQueue, channel })),
    );
    await waitForServers([a, b], 2);
    const [onA, onB] = await Promise.all([connect(a.url), connect(b.url)]);

    const all = [onA, onB].map((s) => next(s, 'news'));
    await a.request('emit', 'news', type);
    expect(await Promise.all(all)).toEqual([type, type]);

    await a.request('joinRoom', 'r', { sid: onB.id });
    const inRoom = next(onB, 'room');
    await a.request('emit', 'room', 'in r', { to: 'r' });
    expect(await inRoom).toBe('in r');
    expect(await a.request('rooms', { sid: onB.id })).toEqual([onB.id, 'r']);

    onB.on('ask', (x: number, ack: (y: number) => void) => ack(x * 2));
    expect(await a.request('call', 'ask', 21, { to: onB.id, timeout: 5000 })).toBe(42);

    await a.request('closeRoom', 'r');
    expect(await a.request('rooms', { sid: onB.id })).toEqual([onB.id]);
    await Promise.all([a.stop(), b.stop()]);
    if (type === 'redis-streams') {
      // The stream outlives the processes: remove this run's.
      const redis = createClient({ url: REDIS_URL });
      await redis.connect();
      await redis.del(channel);
      await redis.close();
    }
  });

  it('has no emitter: emitterOnly fails at start-up saying so', async () => {
    const message = await startNode('W', {
      messageQueue: { type, url: REDIS_URL },
      emitterOnly: true,
    }).then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(message).toBe(
      `SocketIOModule: emitterOnly: true works with the 'redis' and 'postgres' message queues; '${type}' has no emitter`,
    );
  });
});

// The escape hatch: any socket.io adapter, here the Redis adapter on clients the app owns.
describe('the adapter option', () => {
  it('installs a custom adapter and the room helpers work across apps through it', async () => {
    const key = `custom-${randomUUID().slice(0, 8)}`;
    // Each app has its own connections, as separate processes would.
    const clients = [1, 2, 3, 4].map(() => createClient({ url: REDIS_URL }));
    await Promise.all(clients.map((c) => c.connect()));
    const apps = await Promise.all(
      [0, 2].map((i) =>
        startApp({
          imports: [
            SocketIOModule.forRoot({ adapter: createAdapter(clients[i], clients[i + 1], { key }) }),
          ],
        }),
      ),
    );
    try {
      const [one, two] = apps;
      const onTwo = await connect(two.url);
      const sockets = one.app.get(SocketService);
      await sockets.joinRoom('custom', { sid: onTwo.id });
      const got = next(onTwo, 'hello');
      sockets.emit('hello', 'through a custom adapter', { to: 'custom' });
      expect(await got).toBe('through a custom adapter');
      expect(await sockets.rooms({ sid: onTwo.id })).toEqual([onTwo.id, 'custom']);
    } finally {
      closeClients();
      await Promise.all(apps.map((a) => a.app.close()));
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

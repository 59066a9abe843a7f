import 'reflect-metadata';
import { createChatApp } from '../01-chat/app.js';
import { createRedisSessionStore } from './redis-session-store.js';

// One chat instance of the 02-worker sample: the 01-chat app on a message queue and a shared
// session store. main.ts starts two of these and a worker.
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sessions = await createRedisSessionStore(redisUrl);
const app = await createChatApp({
  messageQueue: redisUrl,
  sessionStore: sessions.store,
  instanceName: process.env.INSTANCE_NAME ?? 'chat',
  // The worker pushes the counter for every instance.
  counterIntervalMs: 0,
});
await app.listen(Number(process.env.PORT ?? 3001));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await app.close();
    await sessions.close();
  });
}
console.log(
  `${process.env.INSTANCE_NAME ?? 'chat'} on http://localhost:${process.env.PORT ?? 3001}`,
);

import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';

/** An express-session store in Redis, so every chat instance knows every login. */
export async function createRedisSessionStore(url: string, prefix = 'sample-chat:sess:') {
  const client = createClient({ url });
  client.on('error', (err) => console.error(`session store: ${err.message}`));
  await client.connect();
  return {
    store: new RedisStore({ client, prefix }),
    close: async () => {
      await client.close();
    },
  };
}

import { createClient } from 'redis';
import { createAdapter } from '@socket.io/redis-adapter';
import type { EmitVia } from '../protocol.js';

/** What the harness needs from each server under test. */
export interface BenchServer {
  readonly port: number;
  /** One broadcast, through the framework's own API, to the namespace or a room. */
  broadcast(event: string, data: unknown, room?: string): void;
  /** One emit to every client, the way `via` names (see `EmitVia`). */
  emitVia(via: EmitVia, event: string, data: unknown): void;
  close(): Promise<void>;
}

/** A socket.io Redis adapter factory, as a user of raw socket.io or Nest's IoAdapter builds it. */
export async function redisAdapter(redis: { url: string; channel: string }) {
  const pub = createClient({ url: redis.url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  return {
    adapter: createAdapter(pub, sub, { key: redis.channel }),
    close: async () => {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

/** eiows' server class, for `wsEngine`; loaded by name, as it is installed by hand (Node 22+). */
export async function eiowsServer(): Promise<unknown> {
  const name = 'eiows';
  const mod = (await import(name)) as { Server?: unknown; default?: { Server?: unknown } };
  return mod.Server ?? mod.default?.Server;
}

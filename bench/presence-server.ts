// Server process of the presence benchmark: one Nest app with PresenceService on Redis, driven
// over IPC; it measures its own CPU time and heap.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PresenceService, SocketIOModule, SocketService } from '../lib/index.js';
import { serveCommands } from './protocol.js';

const { redisUrl, channel } = JSON.parse(process.argv[2]) as { redisUrl: string; channel: string };

@Module({
  imports: [SocketIOModule.forRoot({ logger: false, messageQueue: redisUrl, channel })],
})
// oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a class by design
class BenchModule {}

// The harness gone (it failed), nothing is left to measure.
process.on('disconnect', () => process.exit(1));
const app = await NestFactory.create(BenchModule, { logger: false });
await app.listen(0, '127.0.0.1');
const presence = app.get(PresenceService);
const sockets = app.get(SocketService);
const sids = () => [...sockets.server.of('/').sockets.keys()];
const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

type Command = { id: number; cmd: string; [k: string]: unknown };
const commands: Record<string, (c: Command) => unknown> = {
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return { cpuUs: user + system };
  },
  heap: () => ({ heapUsed: heap() }),
  /**
   * Tracks every connected client from `from` on: all at once in one topic (one batch), or in a
   * topic each (`spread`: each gets a small state), or one after the other in a topic each.
   */
  trackAll: async ({ topic, from, sequential, spread }) => {
    const all = sids().slice(Number(from ?? 0));
    const start = process.cpuUsage();
    const base = Number(from ?? 0);
    if (sequential) {
      for (const [i, sid] of all.entries()) {
        await presence.track(`${String(topic)}-${base + i}`, `user-${base + i}`, { n: i }, { sid });
      }
    } else {
      await Promise.all(
        all.map((sid, i) =>
          presence.track(
            spread ? `${String(topic)}-${base + i}` : String(topic),
            `user-${base + i}`,
            { n: base + i },
            { sid },
          ),
        ),
      );
    }
    const used = process.cpuUsage(start);
    return { count: all.length, cpuUs: used.user + used.system };
  },
  /** `count` metadata updates of one tracked client: each is one diff to the whole room. */
  churn: async ({ topic, count }) => {
    const [sid] = sids();
    await presence.track(String(topic), 'churner', { round: -1 }, { sid });
    const start = process.cpuUsage();
    for (let i = 0; i < Number(count); i++) {
      await presence.update(String(topic), 'churner', { round: i }, { sid });
    }
    const used = process.cpuUsage(start);
    return { cpuUs: used.user + used.system, connected: sids().length };
  },
  /** The same number of plain room emits of a diff-shaped payload, one per turn of the loop. */
  plain: async ({ topic, count, payload }) => {
    const start = process.cpuUsage();
    for (let i = 0; i < Number(count); i++) {
      sockets.emit('presence_diff', payload, { to: String(topic) });
      await new Promise((r) => setImmediate(r));
    }
    const used = process.cpuUsage(start);
    return { cpuUs: used.user + used.system };
  },
  close: async () => {
    await app.close();
    setImmediate(() => process.exit(0));
    return {};
  },
};

serveCommands<Command>(
  async (command) => (await commands[command.cmd](command)) as Record<string, unknown>,
);
process.send?.({ id: 0, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') });

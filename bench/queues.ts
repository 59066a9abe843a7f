// Cross-process figures of every message queue, side by side in one run: the latency of an emit
// made on process A to a client of process B (median and p99), and the CPU time the two
// processes spend per delivered message during a burst of broadcasts. The brokers' own CPU is
// not counted. Run: npm run bench:queues [-- --rounds N --emits N]
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { SocketIOModule, SocketService, type SocketIOModuleOptions } from '../lib/index.js';

interface Kind {
  name: string;
  messageQueue: SocketIOModuleOptions['messageQueue'];
}

const KINDS: Kind[] = [
  { name: 'redis', messageQueue: 'redis://127.0.0.1:6379' },
  {
    name: 'postgres',
    messageQueue: { type: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test' },
  },
  { name: 'amqp (noDelay)', messageQueue: 'amqp://guest:guest@127.0.0.1:5672' },
  {
    name: 'amqp (Nagle on)',
    messageQueue: {
      type: 'amqp',
      url: 'amqp://guest:guest@127.0.0.1:5672',
      adapterOptions: { noDelay: false },
    },
  },
  { name: 'nats', messageQueue: 'nats://127.0.0.1:4222' },
];

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

type Command =
  | { id: number; cmd: 'emit'; to?: string; n: number }
  | { id: number; cmd: 'burst'; count: number }
  | { id: number; cmd: 'rooms'; sid: string }
  | { id: number; cmd: 'mark' }
  | { id: number; cmd: 'cpu' }
  | { id: number; cmd: 'close' };

/** A server process: a Nest app on the queue, driven over IPC. */
async function serve(options: SocketIOModuleOptions): Promise<void> {
  // The module serves the default namespace without any gateway.
  @Module({ imports: [SocketIOModule.forRoot({ ...options, logger: false })] })
  // oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a class by design
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const sockets = app.get(SocketService);
  let mark = process.cpuUsage();
  process.on('message', async (c: Command) => {
    // Stamped by the emitting process: the figure is emit to receipt, without our IPC.
    if (c.cmd === 'emit') {
      const t = now();
      for (let i = 0; i < c.n; i++) sockets.emit('t', t, c.to ? { to: c.to } : {});
    }
    if (c.cmd === 'burst') for (let i = 0; i < c.count; i++) sockets.emit('b', i);
    let ms: number | undefined;
    if (c.cmd === 'rooms') {
      const t = now();
      await sockets.rooms({ sid: c.sid });
      ms = now() - t;
    }
    if (c.cmd === 'mark') mark = process.cpuUsage();
    const cpu = process.cpuUsage(mark);
    process.send!({ id: c.id, cpuUs: cpu.user + cpu.system, ms });
    if (c.cmd === 'close') {
      await app.close();
      process.exit(0);
    }
  });
  process.send!({ id: 0, url: await app.getUrl() });
}

class Node {
  private nextId = 1;
  private readonly waiting = new Map<number, (m: Record<string, any>) => void>();
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: Record<string, any>) => this.waiting.get(m.id)?.(m));
  }
  static async start(options: SocketIOModuleOptions): Promise<[Node, string]> {
    const child = fork(fileURLToPath(import.meta.url), ['serve', JSON.stringify(options)]);
    const node = new Node(child);
    const ready = await node.reply(0);
    return [node, (ready.url as string).replace('[::1]', '127.0.0.1')];
  }
  reply(id: number): Promise<Record<string, any>> {
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
  send(command: Record<string, unknown>): Promise<Record<string, any>> {
    const id = this.nextId++;
    const got = this.reply(id);
    this.child.send({ ...command, id });
    return got;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function connect(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

interface Figures {
  medianMs: number;
  p99Ms: number;
  threeMedianMs: number;
  roomsMedianMs: number;
  cpuUsPerDelivery: number;
}

async function measure(kind: Kind, emits: number, clients: number): Promise<Figures> {
  const options = { messageQueue: kind.messageQueue, channel: `bench-${randomUUID().slice(0, 8)}` };
  const [[a], [b, urlB]] = await Promise.all([Node.start(options), Node.start(options)]);
  const sockets = await Promise.all(Array.from({ length: clients }, () => connect(urlB)));
  try {
    const target = sockets[0];
    /** Emits `n` messages back to back; resolves with the time until the last one arrived. */
    const round = async (n: number): Promise<number> => {
      let left = n;
      const got = new Promise<number>((resolve) => {
        const on = (sent: number) => {
          if (--left > 0) return;
          target.off('t', on);
          resolve(now() - sent);
        };
        target.on('t', on);
      });
      await a.send({ cmd: 'emit', to: target.id, n });
      return got;
    };
    // Warm-up, which also waits for the two processes to hear each other.
    for (let i = 0; i < 50; i++) await round(1);
    const latencies: number[] = [];
    for (let i = 0; i < emits; i++) latencies.push(await round(1));
    // Small writes in a row are where Nagle's algorithm waits for the broker's delayed ACK.
    const pairs: number[] = [];
    for (let i = 0; i < emits; i++) pairs.push(await round(3));
    // A request and its response: rooms() of a client of the other process.
    const asks: number[] = [];
    for (let i = 0; i < emits; i++) asks.push((await a.send({ cmd: 'rooms', sid: target.id })).ms);

    const burst = 200;
    let delivered = 0;
    const all = new Promise<void>((resolve) => {
      for (const s of sockets) {
        s.on('b', () => {
          if (++delivered === burst * clients) resolve();
        });
      }
    });
    await Promise.all([a.send({ cmd: 'mark' }), b.send({ cmd: 'mark' })]);
    await a.send({ cmd: 'burst', count: burst });
    await all;
    const [ca, cb] = await Promise.all([a.send({ cmd: 'cpu' }), b.send({ cmd: 'cpu' })]);
    return {
      medianMs: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      threeMedianMs: percentile(pairs, 50),
      roomsMedianMs: percentile(asks, 50),
      cpuUsPerDelivery: (ca.cpuUs + cb.cpuUs) / delivered,
    };
  } finally {
    for (const s of sockets) s.close();
    await Promise.all([a.send({ cmd: 'close' }), b.send({ cmd: 'close' })]);
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const rounds = arg('--rounds', 3);
  const emits = arg('--emits', 300);
  const clients = arg('--clients', 50);
  const results = new Map<string, Figures[]>();
  // Rounds interleave the kinds, so a change of machine load spreads over all of them.
  for (let r = 0; r < rounds; r++) {
    for (const kind of KINDS) {
      const figures = await measure(kind, emits, clients);
      results.set(kind.name, [...(results.get(kind.name) ?? []), figures]);
      console.error(`round ${r + 1}/${rounds} ${kind.name}: ${JSON.stringify(figures)}`);
    }
  }
  const median = (list: Figures[], key: keyof Figures) =>
    percentile(
      list.map((f) => f[key]),
      50,
    );
  const base = results.get('redis')!;
  console.log(
    `| queue | emit latency median (ms) | p99 (ms) | 3 emits in a row, median (ms) | rooms() of a remote sid, median (ms) | CPU per delivered msg (µs) | latency vs Redis | CPU vs Redis |`,
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, list] of results) {
    const row = [
      median(list, 'medianMs').toFixed(2),
      median(list, 'p99Ms').toFixed(2),
      median(list, 'threeMedianMs').toFixed(2),
      median(list, 'roomsMedianMs').toFixed(2),
      median(list, 'cpuUsPerDelivery').toFixed(1),
      (median(list, 'medianMs') / median(base, 'medianMs')).toFixed(2),
      (median(list, 'cpuUsPerDelivery') / median(base, 'cpuUsPerDelivery')).toFixed(2),
    ];
    console.log(`| ${name} | ${row.join(' | ')} |`);
  }
}

if (process.argv[2] === 'serve') await serve(JSON.parse(process.argv[3]) as SocketIOModuleOptions);
else await main();

// The message-queue tests' app processes: each runs test/support/queue-app.ts, driven over IPC,
// and helpers that check delivery across them.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { SocketIOModuleOptions } from 'nest-socketio';
import type { Socket as ClientSocket } from 'socket.io-client';
import { next } from './app.js';
import { buildFixture } from './build-fixture.js';
import { ChildProcessDriver } from './child-process.js';
import type { QueueAppConfig, QueueAppMessage } from './queue-app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** One application (or worker) process, driven over IPC. */
export class QueueNode {
  readonly logs: { level: string; message: string }[] = [];
  readonly problems: string[] = [];
  url = '';

  constructor(
    readonly label: string,
    private readonly driver: ChildProcessDriver,
  ) {
    this.driver.onMessage((m) => {
      const { type, level, message } = m as QueueAppMessage & Record<string, string>;
      if (type === 'log') this.logs.push({ level, message });
      if (type === 'problem') this.problems.push(message);
    });
  }

  get alive(): boolean {
    return this.driver.alive;
  }

  /** Resolves once the app listens (or rejects with its start-up error). */
  async ready(): Promise<void> {
    const ready = await this.driver.waitFor(
      (m) => m.type === 'ready',
      (m) => (m.type === 'fatal' ? String(m.message) : undefined),
    );
    this.url = (ready.url as string | undefined) ?? '';
  }

  /** Runs a `SocketService` method (or `serverCount`) in the process and returns its result. */
  async request<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    return (await this.driver.request({ op, args })).result as T;
  }

  /** Sends a signal to the process (SIGKILL for a crash); resolves once it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    return (await this.driver.kill(signal)).code;
  }

  /** Closes the app (Nest shutdown, queue connections closed) and waits for the exit. */
  async stop(): Promise<void> {
    // A shutdown that hangs (a connection nobody closes) is a bug, not a detail.
    if (!(await this.driver.stop({ op: 'close', args: [] }))) {
      throw new Error(`${this.label} did not exit within 10 s of app.close()`);
    }
  }
}

const nodes = new Set<QueueNode>();

/** Starts one process with these module options; resolves once it listens (or rejects with its start-up error). */
export async function startNode(label: string, options: SocketIOModuleOptions): Promise<QueueNode> {
  const entry = await buildFixture('test/support/queue-app.ts');
  const config: QueueAppConfig = { label, options };
  const driver = ChildProcessDriver.fork(label, entry, {
    cwd: root,
    env: { ...process.env, QUEUE_APP_CONFIG: JSON.stringify(config) },
  });
  const node = new QueueNode(label, driver);
  nodes.add(node);
  await node.ready();
  return node;
}

/** Stops every process this file started. */
export async function stopNodes(): Promise<void> {
  await Promise.all([...nodes].map((n) => n.stop()));
  nodes.clear();
}

/** Waits until every node's adapter sees `count` servers (cluster adapters learn peers by heartbeat). */
export async function waitForServers(
  list: QueueNode[],
  count: number,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await Promise.all(list.map((n) => n.request<number>('serverCount')));
    if (counts.every((c) => c === count)) return;
    if (Date.now() > deadline)
      throw new Error(`servers see ${counts.join(', ')} peers, not ${count}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Emits from `from` to each client's own sid and waits for it: once it arrives, every earlier
 * emit of `from` was delivered too (one ordered channel), so "nothing else arrived" can be checked.
 */
export async function barrier(from: QueueNode, ...clients: ClientSocket[]): Promise<void> {
  const token = randomUUID();
  const arrived = clients.map((s) => next(s, 'barrier'));
  for (const s of clients) await from.request('emit', 'barrier', token, { to: s.id });
  for (const got of await Promise.all(arrived)) {
    if (got !== token) throw new Error(`barrier: expected ${token}, got ${String(got)}`);
  }
}

/** Emits from `from` until `to` receives it: cross-process delivery works (again). */
export async function deliveredEventually(
  from: QueueNode,
  to: ClientSocket,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const token = randomUUID();
    const got = next<string>(to, 'probe', 500).catch(() => undefined);
    await from.request('emit', 'probe', token);
    if ((await got) === token) return;
    if (Date.now() > deadline)
      throw new Error(`${from.label}: cross-process delivery did not resume`);
  }
}

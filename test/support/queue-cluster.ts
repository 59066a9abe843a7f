// Multi-process fixtures of the message-queue tests: compiles lib/ and queue-app.ts with tsc into
// a private folder (node has no TypeScript loader here), forks app processes and drives them over IPC.
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { SocketIOModuleOptions } from 'nest-socketio';
import type { Socket as ClientSocket } from 'socket.io-client';
import { next } from './app.js';
import type { QueueAppConfig, QueueAppMessage } from './queue-app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const REDIS_URL = 'redis://127.0.0.1:6379';
export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = 'nats://127.0.0.1:4222';

/** A message queue the cross-process suites run on, and what the test needs to know about it. */
export interface QueueKind {
  readonly name: string;
  readonly service: 'Redis' | 'PostgreSQL' | 'RabbitMQ' | 'NATS';
  readonly port: number;
  readonly messageQueue: SocketIOModuleOptions['messageQueue'];
  /**
   * Other processes know a process as soon as it has started (its first heartbeat went round
   * before start-up completed); the others learn of it at its first heartbeat.
   */
  readonly knownOnceStarted: boolean;
  /** A lock the suite holds while it runs (tests restart this broker). */
  readonly lock?: string;
}

/** Every message queue, as the cross-process suites parametrise over them. */
export const QUEUE_KINDS: readonly QueueKind[] = [
  {
    name: 'redis',
    service: 'Redis',
    port: 6379,
    messageQueue: REDIS_URL,
    knownOnceStarted: true,
  },
  {
    name: 'postgres',
    service: 'PostgreSQL',
    port: 5432,
    // The Postgres adapter learns its peers by heartbeat; a short one keeps start-up quick.
    messageQueue: {
      type: 'postgres',
      url: POSTGRES_URL,
      adapterOptions: { heartbeatInterval: 300 },
    },
    knownOnceStarted: false,
  },
  {
    name: 'amqp',
    service: 'RabbitMQ',
    port: 5672,
    messageQueue: AMQP_URL,
    knownOnceStarted: true,
    lock: 'rabbitmq',
  },
  { name: 'nats', service: 'NATS', port: 4222, messageQueue: NATS_URL, knownOnceStarted: true },
];

/** Fails with a message naming the service when it does not answer on its port. */
export async function requireService(name: QueueKind['service'], port: number): Promise<void> {
  const ok = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(2000);
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => resolve(false));
  }).finally(() => undefined);
  if (!ok) {
    throw new Error(
      `${name} is not reachable on 127.0.0.1:${port}: these message-queue tests need it (bash .ci/services.sh starts it)`,
    );
  }
}

const builds = new Map<string, Promise<string>>();
const buildDirs: string[] = [];

/**
 * Compiles the library and an app fixture (queue-app.ts unless told otherwise) once per test
 * file; returns the app's entry.
 */
export function buildQueueApp(fixture = 'test/support/queue-app.ts'): Promise<string> {
  let built = builds.get(fixture);
  if (!built) builds.set(fixture, (built = compile(fixture)));
  return built;
}

function compile(fixture: string): Promise<string> {
  return (async () => {
    const cache = join(root, 'node_modules', '.cache');
    await mkdir(cache, { recursive: true });
    const dir = await mkdtemp(join(cache, 'nest-socketio-queue-'));
    buildDirs.push(dir);
    const out = join(dir, 'out');
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          rootDir: root,
          outDir: out,
          declaration: false,
          sourceMap: false,
          noUnusedLocals: false,
          paths: {},
        },
        files: [join(root, fixture)],
        include: [],
      }),
    );
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    // Type errors elsewhere in the tree do not stop the emit; a missing output does.
    await promisify(execFile)(tsc, ['-p', join(dir, 'tsconfig.json')]).catch(() => undefined);
    const entry = join(out, fixture.replace(/\.ts$/, '.js'));
    if (!existsSync(entry)) throw new Error(`tsc did not emit ${entry}`);
    await writeFile(join(out, 'package.json'), '{ "type": "module" }');
    return entry;
  })();
}

/** Removes what buildQueueApp() compiled. */
export async function removeBuilds(): Promise<void> {
  await Promise.all(buildDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  builds.clear();
}

const REQUEST_TIMEOUT = 20_000;

/** One application (or worker) process. */
export class QueueNode {
  readonly logs: { level: string; message: string }[] = [];
  readonly problems: string[] = [];
  url = '';
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void }
  >();
  private readonly exited: Promise<number | null>;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (m: QueueAppMessage) => {
      if (m.type === 'log') this.logs.push({ level: m.level, message: m.message });
      if (m.type === 'problem') this.problems.push(m.message);
      if (m.type !== 'reply') return;
      const waiter = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!m.error) return waiter?.resolve(m.result);
      const err = new Error(m.error.message);
      err.name = m.error.name;
      waiter?.reject(err);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.pending.values()) w.reject(new Error(`${label} exited`));
      this.pending.clear();
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Runs a `SocketService` method (or `serverCount`) in the process and returns its result. */
  request<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      // A process that stops answering fails the test with what it was asked, not a bare timeout.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no reply to ${op}() within ${REQUEST_TIMEOUT} ms`));
      }, REQUEST_TIMEOUT);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, op, args });
    });
  }

  /** Sends a signal to the process (SIGKILL for a crash); resolves once it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }

  /** Closes the app (Nest shutdown, queue connections closed) and waits for the exit. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, 10_000);
    await this.request('close').catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
    // A shutdown that hangs (a connection nobody closes) is a bug, not a detail.
    if (killed) throw new Error(`${this.label} did not exit within 10 s of app.close()`);
  }
}

const nodes = new Set<QueueNode>();

/** Starts one process with these module options; resolves once it listens (or rejects with its start-up error). */
export async function startNode(label: string, options: SocketIOModuleOptions): Promise<QueueNode> {
  const entry = await buildQueueApp();
  const config: QueueAppConfig = { label, options };
  const child = fork(entry, [], {
    cwd: root,
    env: { ...process.env, QUEUE_APP_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const node = new QueueNode(label, child);
  nodes.add(node);
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: QueueAppMessage) => {
      if (m.type === 'ready') {
        node.url = m.url ?? '';
        done();
        resolve();
      } else if (m.type === 'fatal') {
        done();
        reject(new Error(m.message));
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`${label} exited with ${code} before it was ready`));
    };
    const done = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
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

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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

/**
 * Holds a lock that every test process of this repository sees (mkdir is atomic), so that a
 * test restarting a shared broker never runs while another file uses it. Returns its release.
 */
export async function holdLock(name: string, timeoutMs = 240_000): Promise<() => Promise<void>> {
  const dir = join(tmpdir(), `nest-socketio-test-${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'pid'), String(process.pid));
      return () => rm(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // A holder that died without releasing: take the lock over.
    const holder = Number(await readFile(join(dir, 'pid'), 'utf8').catch(() => '0'));
    if (holder > 0 && !processAlive(holder)) await rm(dir, { recursive: true, force: true });
    if (Date.now() > deadline)
      throw new Error(`the test lock "${name}" is still held by ${holder}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A broker a test stops and starts again. */
export interface RestartableBroker {
  readonly url: string;
  /** How the module names it in its logs: `NATS at 127.0.0.1:4567`. */
  readonly label: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Resolves once something accepts connections on the port. */
export async function untilListening(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A server of the test's own on its own port, that can be stopped and started again. */
class OwnServer implements RestartableBroker {
  private process?: ChildProcess;
  constructor(
    readonly port: number,
    private readonly service: string,
    private readonly scheme: string,
    private readonly command: string,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  get label(): string {
    return `${this.service} at 127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { stdio: 'ignore' });
    this.process = child;
    await Promise.race([
      untilListening(this.port),
      new Promise((_, reject) => {
        child.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            err.code === 'ENOENT'
              ? new Error(
                  `${this.command} is not installed: this test starts a ${this.service} server of its own`,
                )
              : err,
          ),
        );
        child.once('exit', (code) => reject(new Error(`${this.command} exited with ${code}`)));
      }),
    ]);
  }

  /** Kills the server (as a crash would) and waits for its exit. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** A redis-server of the test's own. */
export class OwnRedis extends OwnServer {
  constructor(port: number) {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    super(port, 'Redis', 'redis', 'redis-server', args);
  }
}

/** A nats-server of the test's own (core NATS, no JetStream). */
export class OwnNats extends OwnServer {
  constructor(port: number) {
    super(port, 'NATS', 'nats', 'nats-server', ['-a', '127.0.0.1', '-p', String(port)]);
  }
}

/**
 * The machine's RabbitMQ (127.0.0.1:5672), stopped and started with `rabbitmqctl stop_app` and
 * `start_app`: a private node would need a second Erlang distribution setup. Hold the
 * `rabbitmq` lock (holdLock) around its use.
 */
export class SharedRabbitMQ implements RestartableBroker {
  readonly url = AMQP_URL;
  readonly label = 'AMQP broker at 127.0.0.1:5672';

  async start(): Promise<void> {
    await promisify(execFile)('rabbitmqctl', ['start_app']);
    await untilListening(5672);
  }

  async stop(): Promise<void> {
    await promisify(execFile)('rabbitmqctl', ['stop_app']);
  }
}

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { SocketIOModuleOptions } from 'nest-socketio';

// The services the end-to-end tests run against: Redis, PostgreSQL, RabbitMQ and NATS (started by
// the global set-up when installed but stopped), brokers of a test's own that it can stop and
// start, a lock around the machine's RabbitMQ (a test restarts it), free ports.

/** A service the end-to-end tests need, how to start it when installed, how to install it. */
export interface Service {
  name: string;
  port: number;
  /** The program that must be on PATH to start it. */
  program: string;
  /** Starts it in the background (the program is known to be installed). */
  start(): Promise<void>;
  install: string;
}

/**
 * Resolves true when something accepts TCP connections on 127.0.0.1:port; once the probe's own
 * socket is closed, so tests that count open sockets do not count it.
 */
export function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let connected = false;
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      connected = true;
      socket.destroy();
    });
    socket.once('error', () => undefined);
    socket.once('close', () => resolve(connected));
  });
}

/** The program's path if it is on PATH (`pathVar` for tests). */
export function onPath(program: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Waits until the port answers: the daemon opens it when it is ready. */
async function untilAnswers(name: string, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(port))) {
    if (Date.now() > deadline) {
      throw new Error(`${name} was started but does not answer on 127.0.0.1:${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function redisService(port = 6379): Service {
  return {
    name: 'Redis',
    port,
    program: 'redis-server',
    install: 'sudo apt-get install -y redis-server',
    async start() {
      // --daemonize: redis forks and keeps running after the tests, as a service would.
      const child = spawn(
        'redis-server',
        [
          '--daemonize',
          'yes',
          '--bind',
          '127.0.0.1',
          '--port',
          String(port),
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      );
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`redis-server exited with ${code}`)),
        );
      });
    },
  };
}

export function postgresService(port = 5432): Service {
  return {
    name: 'PostgreSQL',
    port,
    program: 'pg_ctlcluster',
    install: 'sudo apt-get install -y postgresql',
    async start() {
      const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
      if (versions.length === 0) {
        throw new Error(
          'PostgreSQL is installed but has no cluster: run `sudo pg_createcluster --start 15 main`',
        );
      }
      await promisify(execFile)('pg_ctlcluster', [
        '--skip-systemctl-redirect',
        versions[0]!,
        'main',
        'start',
      ]);
    },
  };
}

export function rabbitmqService(port = 5672): Service {
  return {
    name: 'RabbitMQ',
    port,
    program: 'rabbitmq-server',
    install: 'sudo apt-get install -y rabbitmq-server',
    async start() {
      // A node that runs with its app stopped needs start_app; otherwise start the node.
      await promisify(execFile)('rabbitmqctl', ['start_app']).catch(() =>
        promisify(execFile)('rabbitmq-server', ['-detached']),
      );
    },
  };
}

export function natsService(port = 4222): Service {
  return {
    name: 'NATS',
    port,
    program: 'nats-server',
    install: 'sudo apt-get install -y nats-server',
    async start() {
      const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js'], {
        detached: true,
        stdio: 'ignore',
      });
      child.unref();
    },
  };
}

/**
 * Makes sure the service answers: nothing to do when it runs, started when it is installed,
 * otherwise an error that gives the one command that installs it.
 */
export async function ensureService(
  service: Service,
  pathVar?: string,
): Promise<'running' | 'started'> {
  if (await answers(service.port)) return 'running';
  if (!onPath(service.program, pathVar)) {
    throw new Error(
      `${service.name} is not running on 127.0.0.1:${service.port} and is not installed. ` +
        `The end-to-end tests need it: install it with \`${service.install}\`, then run npm test again.`,
    );
  }
  await service.start();
  await untilAnswers(service.name, service.port);
  return 'started';
}

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
  if (!(await answers(port))) {
    throw new Error(
      `${name} is not reachable on 127.0.0.1:${port}: these message-queue tests need it (bash .ci/services.sh starts it)`,
    );
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
  while (!(await answers(port))) {
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
  readonly label = 'RabbitMQ at 127.0.0.1:5672';

  async start(): Promise<void> {
    await promisify(execFile)('rabbitmqctl', ['start_app']);
    await untilListening(5672);
  }

  async stop(): Promise<void> {
    await promisify(execFile)('rabbitmqctl', ['stop_app']);
  }
}

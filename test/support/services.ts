import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

// The services the end-to-end tests run against: Redis and PostgreSQL (started by the global
// set-up when installed but stopped), a Redis of a test's own that it can stop and start, free ports.

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

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
export function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      // Resolved once closed, so a test that counts its process's sockets does not see this one.
      socket.once('close', () => resolve(true));
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
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

/** Fails with a message naming the service when it does not answer on its port. */
export async function requireService(name: 'Redis' | 'PostgreSQL', port: number): Promise<void> {
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

/** A redis-server of the test's own, on its own port, that can be stopped and started again. */
export class OwnRedis {
  private process?: ChildProcess;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('Ready to accept connections')) resolve();
      });
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'ENOENT'
            ? new Error(
                'redis-server is not installed: this test starts a Redis of its own (apt-get install redis-server)',
              )
            : err,
        ),
      );
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${seen}`)));
    });
    child.stdout!.resume();
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

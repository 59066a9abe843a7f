import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

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
      socket.destroy();
      resolve(true);
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

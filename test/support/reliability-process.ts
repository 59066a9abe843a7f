import { fileURLToPath } from 'node:url';
import type { SocketIOModuleOptions } from 'nest-socketio';
import { ChildProcessDriver, type ChildExit } from './child-process.js';
import { buildFixture } from './build-fixture.js';
import type { ReliabilityAppMessage } from './reliability-app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A forked reliability-app.ts process, driven over IPC. */
export class AppProcess {
  readonly logs: string[] = [];
  readonly problems: string[] = [];
  url = '';
  /** What was still open once Nest had shut down (sent just before the process ends). */
  resources?: string[];
  readonly exited: Promise<ChildExit>;

  constructor(private readonly driver: ChildProcessDriver) {
    driver.onMessage((raw) => {
      const m = raw as unknown as ReliabilityAppMessage;
      if (m.type === 'log') this.logs.push(m.message);
      else if (m.type === 'problem') this.problems.push(m.message);
      else if (m.type === 'closed') this.resources = m.resources;
    });
    this.exited = driver.exited;
  }

  get child() {
    return this.driver.child;
  }

  async request<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    return (await this.driver.request({ op, args }, 10_000)).result as T;
  }

  /** Waits until a log line appears. */
  async waitForLog(line: string, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.logs.includes(line)) {
      if (Date.now() > until) throw new Error(`no "${line}" in the app's log: ${this.logs}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get alive(): boolean {
    return this.driver.alive;
  }
}

const started = new Set<AppProcess>();

/** Compiles (once) and forks reliability-app.ts with these module options; resolves once it listens. */
export async function startAppProcess(options: SocketIOModuleOptions): Promise<AppProcess> {
  const entry = await buildFixture('test/support/reliability-app.ts');
  const driver = ChildProcessDriver.fork('app', entry, {
    cwd: root,
    env: { ...process.env, RELIABILITY_APP_CONFIG: JSON.stringify({ options }) },
  });
  const app = new AppProcess(driver);
  started.add(app);
  const ready = await driver.waitFor(
    (m) => m.type === 'ready',
    (m) => (m.type === 'fatal' ? String(m.message) : undefined),
  );
  app.url = ready.url as string;
  return app;
}

/** Kills whatever a test left running. */
export async function killAppProcesses(): Promise<void> {
  await Promise.all(
    [...started].map(async (app) => {
      if (app.alive) app.child.kill('SIGKILL');
      await app.exited;
    }),
  );
  started.clear();
}

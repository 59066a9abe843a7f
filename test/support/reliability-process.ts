import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SocketIOModuleOptions } from 'nest-socketio';
import { buildQueueApp } from './queue-cluster.js';
import type { ReliabilityAppMessage } from './reliability-app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A forked reliability-app.ts process, driven over IPC. */
export class AppProcess {
  readonly logs: string[] = [];
  readonly problems: string[] = [];
  url = '';
  /** What was still open once Nest had shut down (sent just before the process ends). */
  resources?: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private nextId = 0;
  private readonly pending = new Map<number, (m: ReliabilityAppMessage) => void>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: ReliabilityAppMessage) => {
      if (m.type === 'log') this.logs.push(m.message);
      else if (m.type === 'problem') this.problems.push(m.message);
      else if (m.type === 'closed') this.resources = m.resources;
      else if (m.type === 'reply') this.pending.get(m.id)?.(m);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
  }

  request<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${op}()`)), 10_000);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (m.type === 'reply' && m.error) reject(new Error(m.error));
        else resolve((m as { result?: T }).result as T);
      });
      this.child.send({ id, op, args });
    });
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
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

const started = new Set<AppProcess>();

/** Compiles (once) and forks reliability-app.ts with these module options; resolves once it listens. */
export async function startAppProcess(options: SocketIOModuleOptions): Promise<AppProcess> {
  const entry = await buildQueueApp('test/support/reliability-app.ts');
  const child = fork(entry, [], {
    cwd: root,
    env: { ...process.env, RELIABILITY_APP_CONFIG: JSON.stringify({ options }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const app = new AppProcess(child);
  started.add(app);
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: ReliabilityAppMessage) => {
      if (m.type === 'ready') {
        app.url = m.url;
        resolve();
      } else if (m.type === 'fatal') reject(new Error(m.message));
    });
    child.once('exit', (code) =>
      reject(new Error(`the app exited with ${code} before it was ready`)),
    );
  });
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

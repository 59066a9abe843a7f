import { fork, type ChildProcess } from 'node:child_process';

/** A message a driven process sends; a reply carries the id of the request it answers. */
export interface ChildMessage {
  id?: number;
  type?: string;
  /** A failed request: the error's message, or its name and message. */
  error?: string | { name?: string; message: string };
  [key: string]: unknown;
}

/** How a process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `Date.now()` at the exit. */
  at: number;
}

/**
 * A forked process driven over IPC, shared by the test suite's app processes and the bench's
 * servers and load generator: each request carries an id and settles with the message that
 * answers it (one with the same `id`, of no `type` or of type `reply`); a process that exits
 * fails whatever is still pending, naming itself.
 */
export class ChildProcessDriver {
  readonly exited: Promise<ChildExit>;
  private readonly pending = new Map<
    number,
    { resolve(m: ChildMessage): void; reject(e: Error): void }
  >();
  private readonly listeners = new Set<(m: ChildMessage) => void>();
  private nextId = 1;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
    private readonly timeoutMs = 20_000,
  ) {
    child.on('message', (m: ChildMessage) => {
      const waiter = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
      if (waiter && (m.type === undefined || m.type === 'reply')) {
        this.pending.delete(m.id!);
        if (m.error === undefined) waiter.resolve(m);
        else waiter.reject(toError(this.label, m.error));
      }
      for (const listener of this.listeners) listener(m);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        const error = new Error(`${label} exited (code ${code}, signal ${signal})`);
        for (const waiter of this.pending.values()) waiter.reject(error);
        this.pending.clear();
        resolve({ code, signal, at: Date.now() });
      }),
    );
  }

  /** Forks a script (its stdout and stderr are the parent's) and drives it. */
  static fork(
    label: string,
    script: string,
    options: { args?: string[]; execArgv?: string[]; env?: NodeJS.ProcessEnv; cwd?: string } = {},
    timeoutMs?: number,
  ): ChildProcessDriver {
    const child = fork(script, options.args ?? [], {
      cwd: options.cwd,
      env: options.env,
      execArgv: options.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ChildProcessDriver(label, child, timeoutMs);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Calls `listener` with every message the process sends. */
  onMessage(listener: (m: ChildMessage) => void): void {
    this.listeners.add(listener);
  }

  /**
   * Resolves with the first message that `matches`; rejects with what `failure` says of a
   * message (a start-up error, say), or when the process exits first.
   */
  waitFor(
    matches: (m: ChildMessage) => boolean,
    failure: (m: ChildMessage) => string | undefined = () => undefined,
  ): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const listener = (m: ChildMessage) => {
        const problem = failure(m);
        if (problem !== undefined) finish(() => reject(new Error(problem)));
        else if (matches(m)) finish(() => resolve(m));
      };
      const finish = (settle: () => void) => {
        this.listeners.delete(listener);
        settle();
      };
      this.listeners.add(listener);
      void this.exited.then(({ code }) =>
        finish(() => reject(new Error(`${this.label} exited with ${code} before it was ready`))),
      );
    });
  }

  /** Sends `message` with a fresh id; resolves with the reply, rejects with its error or after a while. */
  request<T extends ChildMessage = ChildMessage>(
    message: Record<string, unknown>,
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    const id = this.nextId++;
    const what = String(message.cmd ?? message.op ?? 'request');
    return new Promise<T>((resolve, reject) => {
      // A process that stops answering fails with what it was asked, not a bare timeout.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no reply to ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...message, id });
    });
  }

  /** Sends a signal (SIGKILL for a crash); resolves once the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ChildExit> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  /**
   * Asks the process to close with `closeMessage` and waits for its exit; kills it when it has
   * not exited within `graceMs`. Resolves true when it exited by itself.
   */
  async stop(closeMessage: Record<string, unknown>, graceMs = 10_000): Promise<boolean> {
    if (!this.alive) return true;
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, graceMs);
    await this.request(closeMessage, graceMs).catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
    return !killed;
  }
}

function toError(label: string, error: NonNullable<ChildMessage['error']>): Error {
  if (typeof error === 'string') return new Error(`${label}: ${error}`);
  const err = new Error(error.message);
  if (error.name) err.name = error.name;
  return err;
}

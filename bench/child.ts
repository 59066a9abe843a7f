import { fork, type ChildProcess } from 'node:child_process';
import type { Reply } from './protocol.js';

/** A child process driven over IPC: each request carries an id and resolves with its reply. */
export class Child {
  private readonly proc: ChildProcess;
  private readonly pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  private nextId = 1;
  private exited = false;
  /** The first message the child sends once it is ready (the server's port). */
  readonly ready: Promise<Reply>;

  constructor(
    readonly name: string,
    script: string,
    args: string[],
    execArgv: string[] = [],
  ) {
    this.proc = fork(script, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.pending.set(0, { resolve, reject });
    });
    this.proc.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.error) waiter.reject(new Error(`${this.name}: ${reply.error}`));
      else waiter.resolve(reply);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      const error = new Error(`${this.name} exited (code ${code}, signal ${signal})`);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
  }

  /** Sends a command and resolves with its reply; rejects after `timeoutMs`. */
  request<T extends Reply = Reply>(
    command: Record<string, unknown> & { cmd: string },
    timeoutMs = 180_000,
  ): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no reply to ${command.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ ...command, id });
    });
  }

  /** Asks the child to close, and kills it if it does not exit promptly. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    this.request({ cmd: 'close' }, 10_000).catch(() => this.proc.kill('SIGKILL'));
    await exited;
    clearTimeout(timer);
  }
}

import type { LoggerService } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import type { SocketContextStorage } from '../context/socket-context.storage.js';
import type { BackgroundTask } from '../interfaces/socket-service.interface.js';

/**
 * The background tasks of one application (Flask-SocketIO's `start_background_task`): each gets
 * an AbortSignal that fires when the application closes, which then waits for them to finish.
 */
export class BackgroundTasks {
  private readonly tasks = new Set<BackgroundTask>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly storage: SocketContextStorage,
    private readonly logger: LoggerService,
  ) {}

  start(task: (signal: AbortSignal) => unknown): BackgroundTask {
    const stopping = this.stopping.signal;
    const controller = new AbortController();
    const onStop = () => controller.abort(stopping.reason);
    stopping.addEventListener('abort', onStop, { once: true });
    if (stopping.aborted) controller.abort(stopping.reason);
    let running = true;
    let handle!: BackgroundTask;
    const done = (async () => {
      try {
        // Outside any handler's context: a task is not "the current client".
        await this.storage.exit(() => task(controller.signal));
      } catch (err) {
        const aborted =
          controller.signal.aborted && (isAbortError(err) || err === controller.signal.reason);
        if (!aborted) {
          this.logger.error(
            `Background task failed: ${err instanceof Error ? err.message : String(err)}`,
            err instanceof Error ? err.stack : undefined,
          );
        }
      } finally {
        running = false;
        stopping.removeEventListener('abort', onStop);
        this.tasks.delete(handle);
      }
    })();
    handle = {
      done,
      get running() {
        return running;
      },
      cancel: () => {
        controller.abort(new Error('Background task cancelled'));
        return done;
      },
    };
    if (running) this.tasks.add(handle);
    return handle;
  }

  /** Waits `ms`; resolves early when `signal` aborts or the application is closing. */
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const signals = signal ? [signal, this.stopping.signal] : [this.stopping.signal];
    try {
      await delay(ms, undefined, { signal: AbortSignal.any(signals) });
    } catch (err) {
      if (!isAbortError(err)) throw err;
    }
  }

  /** Aborts every task (and every later one at once) and waits until all have finished. */
  async drain(): Promise<void> {
    if (!this.stopping.signal.aborted) this.stopping.abort(new Error('The application is closing'));
    await Promise.all([...this.tasks].map((t) => t.done));
  }
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

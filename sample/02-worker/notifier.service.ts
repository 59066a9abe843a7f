import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { SocketService } from 'nest-socketio';

/** How the worker ticks. */
export interface NotifierOptions {
  /** Milliseconds between two counter ticks. @default 1000 */
  intervalMs?: number;
  /** A notification every this many ticks. @default 5 */
  notifyEvery?: number;
}

export const NOTIFIER_OPTIONS = 'SAMPLE_WORKER:OPTIONS';

/**
 * The worker's job: no HTTP, no Socket.IO server, yet its emits reach the users of every chat
 * instance, because `SocketService` publishes them on the message queue (`emitterOnly: true`).
 */
@Injectable()
export class NotifierService implements OnApplicationBootstrap {
  constructor(
    private readonly sockets: SocketService,
    @Inject(NOTIFIER_OPTIONS) private readonly options: NotifierOptions,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.options.intervalMs ?? 1000;
    const notifyEvery = this.options.notifyEvery ?? 5;
    this.sockets.startBackgroundTask(async (signal) => {
      let count = 0;
      while (!signal.aborted) {
        await this.sockets.sleep(interval, signal);
        if (signal.aborted) break;
        count += 1;
        this.sockets.emit('counter', { count, instance: 'worker' });
        if (count % notifyEvery === 0) {
          this.sockets.emit('notification', { text: `Worker: ${count} ticks so far` });
        }
      }
    });
  }
}

import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { SocketService } from 'nest-socketio';
import { InjectChatOptions, type ChatOptions } from './chat.options.js';

/**
 * Flask-SocketIO's `background_thread`: a task that pushes a counter to every client. The module
 * aborts its signal and waits for it when the app closes.
 */
@Injectable()
export class CounterService implements OnApplicationBootstrap {
  constructor(
    private readonly sockets: SocketService,
    @InjectChatOptions() private readonly options: ChatOptions,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.options.counterIntervalMs ?? 1000;
    // 0 turns it off: with several instances, one worker counts for all of them (02-worker).
    if (interval === 0) return;
    this.sockets.startBackgroundTask(async (signal) => {
      let count = 0;
      while (!signal.aborted) {
        await this.sockets.sleep(interval, signal);
        if (signal.aborted) break;
        count += 1;
        this.sockets.emit('counter', { count, instance: this.options.instanceName ?? 'chat' });
      }
    });
  }
}

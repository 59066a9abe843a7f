import { Module, type DynamicModule } from '@nestjs/common';
import { SocketIOModule } from 'nest-socketio';
import { NOTIFIER_OPTIONS, NotifierService, type NotifierOptions } from './notifier.service.js';

/** The worker: `SocketIOModule` with `emitterOnly: true` and the message queue of the chats. */
@Module({})
// oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a class by design
export class WorkerModule {
  static forRoot(
    options: NotifierOptions & { messageQueue: string; channel?: string; logger?: boolean },
  ): DynamicModule {
    const { messageQueue, channel, logger, ...notifier } = options;
    return {
      module: WorkerModule,
      imports: [
        SocketIOModule.forRoot({
          messageQueue,
          channel,
          emitterOnly: true,
          logger: logger !== false,
        }),
      ],
      providers: [{ provide: NOTIFIER_OPTIONS, useValue: notifier }, NotifierService],
    };
  }
}

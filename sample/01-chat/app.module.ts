import { Module, type DynamicModule } from '@nestjs/common';
import { SocketIOModule, type SessionMiddleware } from 'nest-socketio';
import { ApiController } from './api.controller.js';
import { ChatGateway } from './chat.gateway.js';
import { CHAT_OPTIONS, type ChatOptions } from './chat.options.js';
import { CounterService } from './counter.service.js';
import { DemoGateway } from './demo.gateway.js';
import { LoggedInGuard } from './logged-in.guard.js';
import { ChatPresence } from './presence.service.js';
import { MetricsController } from './telemetry.js';

/** The chat application; `createChatApp()` builds it with its session middleware. */
@Module({})
// oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a class by design
export class AppModule {
  static forRoot(options: ChatOptions, session: SessionMiddleware): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SocketIOModule.forRoot({
          session,
          messageQueue: options.messageQueue,
          channel: options.channel,
          logger: options.logger !== false,
        }),
      ],
      controllers: [ApiController, MetricsController],
      providers: [
        { provide: CHAT_OPTIONS, useValue: options },
        DemoGateway,
        ChatGateway,
        LoggedInGuard,
        ChatPresence,
        CounterService,
      ],
    };
  }
}

import {
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { from, mergeMap, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketContext, SocketIOModule, SocketSession } from 'nest-socketio';
import { closeClients, connect, startApp } from '../../support/app.js';

/** An interceptor that does async work before the handler, as an auth or tracing one would. */
@Injectable()
class SlowInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return from(new Promise((resolve) => setImmediate(resolve))).pipe(
      mergeMap(() => next.handle()),
    );
  }
}

@UseInterceptors(SlowInterceptor)
@WebSocketGateway()
class ContextGateway {
  constructor(private readonly ctx: SocketContext) {}

  @SubscribeMessage('who')
  who(@SocketSession() session: Record<string, unknown>) {
    session.seen = ((session.seen as number | undefined) ?? 0) + 1;
    return { sid: this.ctx.sid, eventName: this.ctx.event?.name, seen: this.ctx.session.seen };
  }
}

describe('SocketContext and sessions behind interceptors', () => {
  afterEach(() => closeClients());

  it('a handler behind global and gateway interceptors still knows its client and session', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [
        ContextGateway,
        SlowInterceptor,
        { provide: APP_INTERCEPTOR, useClass: SlowInterceptor },
      ],
    });
    try {
      const c = await connect(url);
      expect(await c.emitWithAck('who')).toEqual({
        sid: c.id,
        eventName: 'who',
        seen: 1,
      });
      expect(await c.emitWithAck('who')).toEqual({
        sid: c.id,
        eventName: 'who',
        seen: 2,
      });
    } finally {
      await app.close();
    }
  });
});

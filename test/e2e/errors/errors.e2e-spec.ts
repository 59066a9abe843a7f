import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  Injectable,
  ParseIntPipe,
  UnauthorizedException,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import { IsInt, IsString, Min } from 'class-validator';
import { from, Observable, throwError } from 'rxjs';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  OnSocketError,
  SocketContext,
  SocketError,
  SocketIOModule,
  type SocketErrorHandler,
} from 'nest-socketio';
import { closeClients, connect, next, startApp } from '../../support/app.js';
import { deferred } from '../../support/client-events.js';

class ChatMessageDto {
  @IsString()
  text!: string;

  @IsInt()
  @Min(1)
  room!: number;
}

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(context: ExecutionContext) {
    const data = context.switchToWs().getData<{ mode?: string }>();
    if (data?.mode === 'throw') throw new UnauthorizedException('Who are you?');
    if (data?.mode === 'reject') return Promise.reject(new ForbiddenException('Not today'));
    return false;
  }
}

@Injectable()
class FailingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, handler: CallHandler): Observable<unknown> {
    const data = context.switchToWs().getData<{ mode?: string }>();
    if (data?.mode === 'throw') throw new HttpException('Slow down', 429);
    if (data?.mode === 'observable') return throwError(() => new Error('stream broke'));
    if (data?.mode === 'reject') {
      return from(Promise.reject(new HttpException('Try later', 503)));
    }
    return handler.handle();
  }
}

const INTERNAL = { error: { status: 500, message: 'Internal server error' } };
const disconnectFailed = new Map<string, ReturnType<typeof deferred<void>>>();

@WebSocketGateway()
class FailingGateway implements OnGatewayConnection, OnGatewayDisconnect {
  handleConnection() {
    return undefined;
  }

  handleDisconnect(client: { id: string }) {
    disconnectFailed.get(client.id)?.resolve();
    throw new Error('handleDisconnect exploded');
  }

  @SubscribeMessage('throw')
  throws() {
    throw new Error('secret internals: password=hunter2');
  }

  @SubscribeMessage('reject')
  async rejects() {
    await Promise.resolve();
    throw new Error('async secret internals');
  }

  @SubscribeMessage('throw-string')
  throwsString() {
    throw 'just a string';
  }

  @SubscribeMessage('http')
  http(@MessageBody() status: number) {
    if (status === 403) throw new ForbiddenException('Not your room');
    if (status === 400) throw new BadRequestException({ message: 'Bad thing', field: 'name' });
    throw new HttpException('I am a teapot', status);
  }

  @SubscribeMessage('ws')
  ws() {
    throw new WsException('Plain ws exception');
  }

  @SubscribeMessage('custom')
  custom() {
    throw new SocketError(409, 'Already taken', { id: 7 });
  }

  @SubscribeMessage('guarded')
  @UseGuards(DenyGuard)
  guarded() {
    return 'never';
  }

  @SubscribeMessage('intercepted')
  @UseInterceptors(FailingInterceptor)
  intercepted() {
    return 'never';
  }

  @SubscribeMessage('validated')
  validated(@MessageBody() body: ChatMessageDto) {
    return { ok: body.text };
  }

  @SubscribeMessage('parse')
  parse(@MessageBody(ParseIntPipe) n: number) {
    return n * 2;
  }

  @SubscribeMessage('fine')
  fine() {
    return 'fine';
  }
}

@WebSocketGateway({ namespace: '/handled' })
class HandledGateway {
  @SubscribeMessage('throw')
  throws() {
    throw new Error('handled internals');
  }

  @SubscribeMessage('reject')
  async rejects() {
    await new Promise((r) => setTimeout(r, 1));
    throw new Error('late internals');
  }

  @SubscribeMessage('forbidden')
  forbidden() {
    throw new ForbiddenException('nope');
  }

  @OnSocketError()
  onError(error: unknown, ctx: SocketContext) {
    if (error instanceof ForbiddenException) return undefined; // keep the default reply
    return {
      handled: (error as Error).message,
      by: 'gateway',
      sid: ctx.sid,
      event: ctx.event?.name,
    };
  }
}

@WebSocketGateway({ namespace: '/fallback' })
class FallbackGateway {
  @SubscribeMessage('throw')
  throws() {
    throw new Error('fallback internals');
  }
}

/** The reply with an ack, and the `exception` event without one. */
async function both(c: ClientSocket, event: string, data?: unknown) {
  const acked = await c.timeout(3000).emitWithAck(event, data);
  const exception = next(c, 'exception', 3000);
  c.emit(event, data);
  return { acked, exception: await exception };
}

const defaultErrorHandler: SocketErrorHandler = (error, ctx) => ({
  handled: (error as Error).message,
  by: 'default',
  namespace: ctx.namespace,
});

describe('errors always reach the client', () => {
  let app: INestApplication;
  let url: string;
  const logged: { message: string; trace?: string }[] = [];

  beforeAll(async () => {
    ({ app, url } = await startApp({
      imports: [
        SocketIOModule.forRoot({
          logger: {
            log() {},
            warn() {},
            error: (message: string, trace?: string) => logged.push({ message, trace }),
          },
        }),
      ],
      providers: [
        FailingGateway,
        HandledGateway,
        DenyGuard,
        FailingInterceptor,
        { provide: APP_PIPE, useValue: new ValidationPipe() },
      ],
    }));
  });
  afterAll(() => app.close());
  afterEach(() => closeClients());

  it('an unexpected error is a 500 with no internals, logged with its stack', async () => {
    const c = await connect(url);
    for (const event of ['throw', 'reject', 'throw-string']) {
      expect(await both(c, event)).toEqual({ acked: INTERNAL, exception: INTERNAL });
    }
    const entry = logged.find((l) => l.message.includes('password=hunter2'));
    expect(entry?.message).toContain(`client ${c.id}`);
    expect(entry?.trace).toMatch(/at FailingGateway\.throws/);
    expect(logged.some((l) => l.message.includes('async secret internals'))).toBe(true);
  });

  it('a client that asked for an ack gets no exception event as well', async () => {
    const c = await connect(url);
    const exceptions: unknown[] = [];
    c.on('exception', (e: unknown) => exceptions.push(e));
    expect(await c.emitWithAck('throw')).toEqual(INTERNAL);
    expect(await c.emitWithAck('http', 403)).toMatchObject({ error: { status: 403 } });
    expect(await c.emitWithAck('fine')).toBe('fine');
    expect(exceptions).toEqual([]);
  });

  it('an HttpException keeps its status, message and extra fields', async () => {
    const c = await connect(url);
    expect(await both(c, 'http', 403)).toEqual({
      acked: { error: { status: 403, message: 'Not your room' } },
      exception: { error: { status: 403, message: 'Not your room' } },
    });
    expect(await c.emitWithAck('http', 418)).toEqual({
      error: { status: 418, message: 'I am a teapot' },
    });
    expect(await c.emitWithAck('http', 400)).toEqual({
      error: { status: 400, message: 'Bad thing', data: { field: 'name' } },
    });
  });

  it('WsException is a 400, SocketError carries its own status and data', async () => {
    const c = await connect(url);
    expect(await both(c, 'ws')).toEqual({
      acked: { error: { status: 400, message: 'Plain ws exception' } },
      exception: { error: { status: 400, message: 'Plain ws exception' } },
    });
    expect(await c.emitWithAck('custom')).toEqual({
      error: { status: 409, message: 'Already taken', data: { id: 7 } },
    });
  });

  it('a guard that refuses is a 403; a guard that throws keeps its status', async () => {
    const c = await connect(url);
    const forbidden = { error: { status: 403, message: 'Forbidden resource' } };
    expect(await both(c, 'guarded', {})).toEqual({ acked: forbidden, exception: forbidden });
    const unauthorized = { error: { status: 401, message: 'Who are you?' } };
    expect(await both(c, 'guarded', { mode: 'throw' })).toEqual({
      acked: unauthorized,
      exception: unauthorized,
    });
    const notToday = { error: { status: 403, message: 'Not today' } };
    expect(await both(c, 'guarded', { mode: 'reject' })).toEqual({
      acked: notToday,
      exception: notToday,
    });
  });

  it('an interceptor that throws, or whose stream errors, is answered', async () => {
    const c = await connect(url);
    const tooMany = { error: { status: 429, message: 'Slow down' } };
    expect(await both(c, 'intercepted', { mode: 'throw' })).toEqual({
      acked: tooMany,
      exception: tooMany,
    });
    expect(await both(c, 'intercepted', { mode: 'observable' })).toEqual({
      acked: INTERNAL,
      exception: INTERNAL,
    });
    const later = { error: { status: 503, message: 'Try later' } };
    expect(await both(c, 'intercepted', { mode: 'reject' })).toEqual({
      acked: later,
      exception: later,
    });
  });

  it('a pipe on a parameter fails with 400 and its message', async () => {
    const c = await connect(url);
    const reply = {
      error: { status: 400, message: 'Validation failed (numeric string is expected)' },
    };
    expect(await both(c, 'parse', 'abc')).toEqual({ acked: reply, exception: reply });
    expect(await c.emitWithAck('parse', '21')).toBe(42);
  });

  it('a global ValidationPipe failure is a 400 with its messages', async () => {
    const c = await connect(url);
    const reply = {
      error: {
        status: 400,
        message: expect.arrayContaining([
          'text must be a string',
          'room must not be less than 1',
          'room must be an integer number',
        ]),
      },
    };
    const result = await both(c, 'validated', { room: 0.5 });
    expect(result.acked).toEqual(reply);
    expect(result.exception).toEqual(reply);
    expect(await c.emitWithAck('validated', { text: 'hi', room: 2 })).toEqual({ ok: 'hi' });
  });

  it('@OnSocketError() replaces the reply for its namespace; undefined keeps the default', async () => {
    const c = await connect(`${url}/handled`);
    const handled = { handled: 'handled internals', by: 'gateway', sid: c.id, event: 'throw' };
    expect(await both(c, 'throw')).toEqual({ acked: handled, exception: handled });
    // A rejection after an await still knows the client and the event.
    expect(await c.emitWithAck('reject')).toEqual({
      handled: 'late internals',
      by: 'gateway',
      sid: c.id,
      event: 'reject',
    });
    expect(await c.emitWithAck('forbidden')).toEqual({ error: { status: 403, message: 'nope' } });
  });

  it('defaultErrorHandler answers namespaces without an @OnSocketError()', async () => {
    const other = await startApp({
      imports: [SocketIOModule.forRoot({ defaultErrorHandler, logger: false })],
      providers: [FallbackGateway, HandledGateway],
    });
    try {
      const c = await connect(`${other.url}/fallback`);
      const handled = { handled: 'fallback internals', by: 'default', namespace: '/fallback' };
      expect(await both(c, 'throw')).toEqual({ acked: handled, exception: handled });
      // A gateway's own @OnSocketError() still wins over the default handler.
      const h = await connect(`${other.url}/handled`);
      expect(await h.emitWithAck('throw')).toMatchObject({ by: 'gateway' });
    } finally {
      await other.app.close();
    }
  });

  it('nothing a handler does takes the server down', async () => {
    const c = await connect(url);
    await Promise.all(
      ['throw', 'reject', 'throw-string', 'intercepted', 'guarded'].map((e) =>
        c.emitWithAck(e, { mode: 'observable' }),
      ),
    );
    // A throwing handleDisconnect is logged, not fatal.
    const gone = await connect(url);
    const seen = deferred();
    disconnectFailed.set(gone.id!, seen);
    gone.disconnect();
    await seen.promise;
    expect(await c.emitWithAck('fine')).toBe('fine');
    const fresh = await connect(url);
    expect(await fresh.emitWithAck('fine')).toBe('fine');
    expect(logged.some((l) => l.message.includes('handleDisconnect failed'))).toBe(true);
  });
});

import {
  ForbiddenException,
  Injectable,
  ParseIntPipe,
  SetMetadata,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { IsString } from 'class-validator';
import { defer, map, of, type Observable } from 'rxjs';
import type { Socket } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventName,
  OnSocketError,
  Sid,
  SocketContext,
  SocketIOModule,
  SocketSession,
} from 'nest-socketio';
import { closeClients, connect, next, startApp } from '../../support/app.js';
import { NEST_MAJOR } from '../../support/nest-version.js';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';

// Handlers without guards, interceptors, pipes or filters of their own are called directly by the
// adapter (no Nest promise chain); these tests pin that they see exactly what Nest would give
// them, and that enhancers still run (compiled chains; see enhanced-parity.e2e-spec.ts).

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, handler: CallHandler): Observable<unknown> {
    return handler.handle().pipe(map((value) => ({ wrapped: value })));
  }
}

class NameDto {
  @IsString()
  name!: string;
}

const calls: string[] = [];

@WebSocketGateway()
class DirectGateway {
  constructor(private readonly ctx: SocketContext) {}

  @SubscribeMessage('bare')
  bare(client: Socket, data: unknown, ack: unknown) {
    return { sid: client.id, data, ack: typeof ack };
  }

  @SubscribeMessage('params')
  params(
    @MessageBody('name') name: string,
    @MessageBody() body: unknown,
    @ConnectedSocket() socket: Socket,
    @Sid() sid: string,
    @EventName() event: string,
    @SocketSession() session: Record<string, unknown>,
  ) {
    session.count = ((session.count as number | undefined) ?? 0) + 1;
    // (A reply with an `event` key would be emitted as that event: Nest's convention.)
    return { name, body, same: socket.id === sid, eventName: event, count: this.ctx.session.count };
  }

  @SubscribeMessage('ordered')
  ordered(@ConnectedSocket() client: Socket) {
    queueMicrotask(() => client.emit('later'));
    return 'ack';
  }

  @SubscribeMessage('manual')
  manual(@Ack() ack: (value: unknown) => void) {
    ack('by hand');
    return 'ignored';
  }

  @SubscribeMessage('deep')
  async deep() {
    await new Promise((resolve) => setTimeout(resolve, 2));
    return { sid: this.ctx.sid, current: this.ctx.event };
  }

  @SubscribeMessage('stream')
  stream() {
    return defer(() => of(this.ctx.sid, 'second'));
  }

  @SubscribeMessage('reply-event')
  replyEvent(@MessageBody() data: unknown) {
    return { event: 'answer', data };
  }

  @SubscribeMessage('throws')
  throws() {
    throw new Error('internal detail');
  }

  @SubscribeMessage('rejects')
  async rejects() {
    throw new ForbiddenException('not yours');
  }

  @UseGuards(DenyGuard)
  @SubscribeMessage('guarded')
  guarded() {
    calls.push('guarded');
    return 'should not run';
  }

  @UseInterceptors(WrapInterceptor)
  @SubscribeMessage('intercepted')
  intercepted() {
    return 'value';
  }

  @SubscribeMessage('parsed')
  parsed(@MessageBody(ParseIntPipe) n: number) {
    return { n, type: typeof n };
  }

  @SubscribeMessage('*')
  any(@EventName() event: string, @MessageBody() data: unknown) {
    return { any: event, data };
  }
}

@WebSocketGateway({ namespace: 'handled' })
class HandledGateway {
  @SubscribeMessage('fail')
  fail() {
    throw new Error('boom');
  }

  @OnSocketError()
  onError(error: Error, ctx: SocketContext) {
    return { handled: error.message, sid: ctx.sid, on: ctx.event?.name };
  }
}

const pairCalls: string[] = [];

@WebSocketGateway({ namespace: 'pair' })
class FirstOfPair {
  @SubscribeMessage('both')
  both() {
    pairCalls.push('first');
    return 'first';
  }
}

@WebSocketGateway({ namespace: 'pair' })
class SecondOfPair {
  @SubscribeMessage('both')
  both() {
    pairCalls.push('second');
  }

  @SubscribeMessage('second-only')
  secondOnly(@MessageBody() data: unknown) {
    return { second: data };
  }
}

@WebSocketGateway({ namespace: 'validated' })
class ValidatedGateway {
  @SubscribeMessage('named')
  named(@MessageBody() dto: NameDto) {
    return { ok: dto.name };
  }
}

describe('direct dispatch of handlers without enhancers', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [
        DirectGateway,
        HandledGateway,
        FirstOfPair,
        SecondOfPair,
        DenyGuard,
        WrapInterceptor,
      ],
    }));
  });
  afterAll(async () => {
    closeClients();
    await app.close();
  });

  it('passes the client, data and ack to a handler without parameter decorators', async () => {
    const c = await connect(url);
    expect(await c.timeout(4000).emitWithAck('bare', { x: 1 })).toEqual({
      sid: c.id,
      data: { x: 1 },
      ack: 'function',
    });
  });

  it('resolves @MessageBody(key), @ConnectedSocket, @Sid, @EventName and @SocketSession', async () => {
    const c = await connect(url);
    const body = { name: 'ada', extra: true };
    expect(await c.timeout(4000).emitWithAck('params', body)).toEqual({
      name: 'ada',
      body,
      same: true,
      eventName: 'params',
      count: 1,
    });
    expect(await c.timeout(4000).emitWithAck('params', body)).toMatchObject({ count: 2 });
  });

  it('acks a synchronous handler at once, before work it queued (no promise chain)', async () => {
    expect(await ackAndQueued(url, 'ordered')).toEqual(['ack', 'later']);
  });

  it('lets @Ack() answer by hand and ignores the return value', async () => {
    const c = await connect(url);
    expect(await c.timeout(4000).emitWithAck('manual')).toBe('by hand');
  });

  it('keeps the SocketContext across awaits and inside a returned Observable', async () => {
    const c = await connect(url);
    expect(await c.timeout(4000).emitWithAck('deep', 7)).toEqual({
      sid: c.id,
      current: { name: 'deep', args: [7] },
    });
    expect(await c.timeout(4000).emitWithAck('stream')).toBe(c.id);
  });

  it('emits a returned { event, data } instead of acking', async () => {
    const c = await connect(url);
    const answer = next(c, 'answer');
    c.emit('reply-event', 'hi');
    expect(await answer).toBe('hi');
  });

  it('answers synchronous throws and rejections as error replies', async () => {
    const c = await connect(url);
    expect(await c.timeout(4000).emitWithAck('throws')).toEqual({
      error: { status: 500, message: 'Internal server error' },
    });
    expect(await c.timeout(4000).emitWithAck('rejects')).toEqual({
      error: { status: 403, message: 'not yours' },
    });
    const exception = next(c, 'exception');
    c.emit('throws');
    expect(await exception).toEqual({ error: { status: 500, message: 'Internal server error' } });
  });

  it("gives a namespace's @OnSocketError handler the client's context", async () => {
    const c = await connect(`${url}/handled`);
    expect(await c.timeout(4000).emitWithAck('fail')).toEqual({
      handled: 'boom',
      sid: c.id,
      on: 'fail',
    });
  });

  it('still runs guards, interceptors and pipes (a compiled chain)', async () => {
    const c = await connect(url);
    expect(await c.timeout(4000).emitWithAck('guarded')).toEqual({
      error: { status: 403, message: 'Forbidden resource' },
    });
    expect(calls).toEqual([]);
    expect(await c.timeout(4000).emitWithAck('intercepted')).toEqual({ wrapped: 'value' });
    expect(await c.timeout(4000).emitWithAck('parsed', '42')).toEqual({ n: 42, type: 'number' });
    expect(await c.timeout(4000).emitWithAck('parsed', 'x')).toMatchObject({
      error: { status: 400 },
    });
  });

  it('runs both gateways of a namespace that handle the same event, each its own handler', async () => {
    const c = await connect(`${url}/pair`);
    expect(await c.timeout(4000).emitWithAck('both')).toBe('first');
    await expect.poll(() => pairCalls.toSorted()).toEqual(['first', 'second']);
    expect(await c.timeout(4000).emitWithAck('second-only', 2)).toEqual({ second: 2 });
  });

  it('routes unknown events to the catch-all with their real name', async () => {
    const c = await connect(url);
    expect(await c.timeout(4000).emitWithAck('what-is-this', 5)).toEqual({
      any: 'what-is-this',
      data: 5,
    });
  });
});

describe('direct dispatch with global enhancers', () => {
  it('runs a global pipe on Nest 12 and not on Nest 11, as Nest does', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SocketIOModule.forRoot()],
      providers: [ValidatedGateway],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalPipes(new ValidationPipe());
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const c = await connect(`${url}/validated`);
      expect(await c.timeout(4000).emitWithAck('named', { name: 'ok' })).toEqual({ ok: 'ok' });
      expect(await c.timeout(4000).emitWithAck('named', { name: 5 })).toEqual(
        NEST_MAJOR >= 12
          ? { error: { status: 400, message: ['name must be a string'] } }
          : { ok: 5 }, // Nest 11: no global pipe on gateway handlers
      );
    } finally {
      closeClients();
      await app.close();
    }
  });
});

/** Order of the ack and of an emit the handler queued: direct calls ack first, Nest's chain later. */
async function ackAndQueued(url: string, event: string): Promise<string[]> {
  const c = await connect(url);
  const order: string[] = [];
  const later = new Promise<void>((resolve) =>
    c.once('later', () => {
      order.push('later');
      resolve();
    }),
  );
  const acked = new Promise<void>((resolve) =>
    c.timeout(4000).emit(event, (_err: unknown, value: string) => {
      order.push(value);
      resolve();
    }),
  );
  await Promise.all([later, acked]);
  return order;
}

/** Metadata no part of the package knows (a decorator of the user's, or one a future Nest adds). */
const Tagged = (): MethodDecorator & ClassDecorator => SetMetadata('app:tag', 'x');

@WebSocketGateway({ namespace: '/closed' })
class FailClosedGateway {
  @SubscribeMessage('plain')
  plain(@ConnectedSocket() client: Socket) {
    queueMicrotask(() => client.emit('later'));
    return 'ack';
  }

  @Tagged()
  @SubscribeMessage('tagged')
  tagged(@ConnectedSocket() client: Socket) {
    queueMicrotask(() => client.emit('later'));
    return 'ack';
  }
}

@Tagged()
@WebSocketGateway({ namespace: '/tagged-class' })
class TaggedClassGateway {
  @SubscribeMessage('plain')
  plain(@ConnectedSocket() client: Socket) {
    queueMicrotask(() => client.emit('later'));
    return 'ack';
  }
}

describe('direct dispatch fails closed', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [FailClosedGateway, TaggedClassGateway],
    }));
  });

  afterAll(async () => {
    closeClients();
    await app?.close();
  });

  it('calls a handler with only known metadata directly (its ack comes first)', async () => {
    expect(await ackAndQueued(`${url}/closed`, 'plain')).toEqual(['ack', 'later']);
  });

  it('leaves a handler with a metadata key it does not know to Nest', async () => {
    expect(await ackAndQueued(`${url}/closed`, 'tagged')).toEqual(['later', 'ack']);
  });

  it('leaves every handler of a class with a metadata key it does not know to Nest', async () => {
    expect(await ackAndQueued(`${url}/tagged-class`, 'plain')).toEqual(['later', 'ack']);
  });
});

describe('directDispatch: false', () => {
  it("sends every handler through Nest's chain", async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot({ directDispatch: false })],
      providers: [FailClosedGateway],
    });
    try {
      expect(await ackAndQueued(`${url}/closed`, 'plain')).toEqual(['later', 'ack']);
    } finally {
      closeClients();
      await app.close();
    }
  });
});

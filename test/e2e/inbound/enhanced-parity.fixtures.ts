import {
  BadRequestException,
  Inject,
  Injectable,
  ParseIntPipe,
  UnauthorizedException,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
  type ArgumentMetadata,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { IsInt, IsString } from 'class-validator';
import { defer, map, of, tap, timeout, type Observable } from 'rxjs';
import type { Socket } from 'socket.io';

/** What the enhancers and handlers of one app did, in order (one per app: no shared state). */
@Injectable()
export class Journal {
  calls: string[] = [];
  contexts: unknown[] = [];
  instances = 0;
}

/** Also listed as a provider: Nest then holds two instances and runs the enhancer one. */
@Injectable()
export class InstanceGuard implements CanActivate {
  private readonly n: number;
  constructor(@Inject(Journal) private readonly journal: Journal) {
    this.n = ++journal.instances;
  }
  canActivate(): boolean {
    this.journal.calls.push(`instance:${this.n}`);
    return true;
  }
}

@Injectable()
export class RecordingGuard implements CanActivate {
  constructor(@Inject(Journal) private readonly journal: Journal) {}
  canActivate(context: ExecutionContext): boolean {
    this.journal.calls.push(`guard:${context.getHandler().name}`);
    return true;
  }
}

@Injectable()
export class GlobalGuard implements CanActivate {
  constructor(@Inject(Journal) private readonly journal: Journal) {}
  canActivate(): boolean {
    this.journal.calls.push('global-guard');
    return true;
  }
}

@Injectable()
export class GlobalInterceptor implements NestInterceptor {
  constructor(@Inject(Journal) private readonly journal: Journal) {}
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    this.journal.calls.push('global-interceptor');
    return next.handle();
  }
}

const deny = { canActivate: () => false };
const throwing = {
  canActivate: () => {
    throw new UnauthorizedException('who are you');
  },
};
const asyncAllow = { canActivate: async () => true };
const asyncDeny = { canActivate: async () => false };
const observableAllow = { canActivate: () => of(false, true) };
const observableDeny = { canActivate: () => of(true, false) };

/** Records the ExecutionContext a guard sees. */
@Injectable()
export class ContextGuard implements CanActivate {
  constructor(@Inject(Journal) private readonly journal: Journal) {}
  canActivate(context: ExecutionContext): boolean {
    const ws = context.switchToWs();
    const client = ws.getClient<Socket>();
    const args = context.getArgs();
    this.journal.contexts.push({
      type: context.getType(),
      clientIsFirstArg: client === args[0] && typeof client.emit === 'function',
      data: ws.getData(),
      pattern: ws.getPattern(),
      class: context.getClass().name,
      handler: context.getHandler().name,
      argsLength: args.length,
      ackIsArg2: typeof context.getArgByIndex(2),
    });
    return true;
  }
}

/** Records the ArgumentMetadata of every parameter it transforms. */
@Injectable()
export class MetadataPipe implements PipeTransform {
  constructor(@Inject(Journal) private readonly journal: Journal) {}
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    this.journal.calls.push(
      `pipe:${metadata.type}:${metadata.metatype?.name ?? '-'}:${String(metadata.data ?? '-')}`,
    );
    return value;
  }
}

export class AsyncUpperPipe implements PipeTransform {
  async transform(value: unknown): Promise<unknown> {
    await Promise.resolve();
    return String(value).toUpperCase();
  }
}

export class RejectPipe implements PipeTransform {
  transform(): never {
    throw new BadRequestException('bad value');
  }
}

@Injectable()
export class OrderInterceptor implements NestInterceptor {
  constructor(@Inject(Journal) private readonly journal: Journal) {}
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    this.journal.calls.push('interceptor:before');
    return next.handle().pipe(tap(() => this.journal.calls.push('interceptor:after')));
  }
}

const mapping: NestInterceptor = {
  intercept: (_c, next) => next.handle().pipe(map((value) => ({ mapped: value }))),
};
const replacing: NestInterceptor = { intercept: () => of('replaced') };
const timingOut: NestInterceptor = { intercept: (_c, next) => next.handle().pipe(timeout(30)) };
const throwingFirst: NestInterceptor = {
  intercept: () => {
    throw new BadRequestException('refused early');
  },
};
const asyncIntercept: NestInterceptor = {
  intercept: async (_c, next) => next.handle().pipe(map((v) => `async:${String(v)}`)),
};

/** Returns `next.handle()` itself: compiled chains then call the handler with no Observable. */
@Injectable()
export class PassInterceptor implements NestInterceptor {
  constructor(@Inject(Journal) private readonly journal: Journal) {}
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    this.journal.calls.push('pass');
    return next.handle();
  }
}

/** Subscribes to `next.handle()` and returns it too: the handler runs twice, as with Nest. */
@Injectable()
export class PeekInterceptor implements NestInterceptor {
  constructor(@Inject(Journal) private readonly journal: Journal) {}
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handled = next.handle();
    handled.subscribe((value) => this.journal.calls.push(`peeked:${String(value)}`));
    return handled;
  }
}

export class NameDto {
  @IsString()
  name!: string;
  @IsInt()
  age!: number;
}

/** Every case of the parity suite, one handler each. */
@UseGuards(RecordingGuard)
@WebSocketGateway()
export class ParityGateway {
  constructor(@Inject(Journal) private readonly journal: Journal) {}

  @SubscribeMessage('echo') echo(@MessageBody() data: unknown) {
    return data;
  }
  @UseGuards(deny) @SubscribeMessage('deny') denied() {
    this.journal.calls.push('handler');
  }
  @UseGuards(throwing) @SubscribeMessage('guard-throws') guardThrows() {
    this.journal.calls.push('handler');
  }
  @UseGuards(asyncAllow) @SubscribeMessage('async-guard') asyncGuard(@MessageBody() d: unknown) {
    return { d };
  }
  @UseGuards(asyncDeny) @SubscribeMessage('async-deny') asyncDenied() {
    return 'no';
  }
  @UseGuards(observableAllow) @SubscribeMessage('observable-guard') observableGuard() {
    return 'allowed by the last value';
  }
  @UseGuards(observableDeny) @SubscribeMessage('observable-deny') observableDenied() {
    return 'no';
  }
  @UseGuards(InstanceGuard) @SubscribeMessage('instance') instance() {
    return 'which guard instance ran is in the journal';
  }
  @UseGuards(ContextGuard) @SubscribeMessage('context') context(@MessageBody() d: unknown) {
    return d;
  }
  @SubscribeMessage('async-pipe') asyncPipe(@MessageBody(AsyncUpperPipe) text: string) {
    return text;
  }
  @SubscribeMessage('pipe-throws') pipeThrows(@MessageBody(RejectPipe) value: unknown) {
    return value;
  }
  @SubscribeMessage('parse-int') parseInt(@MessageBody('n', new ParseIntPipe()) n: number) {
    return { n, type: typeof n };
  }
  @UsePipes(new ValidationPipe({ transform: true }))
  @SubscribeMessage('dto')
  dto(@MessageBody() body: NameDto) {
    return { isDto: body instanceof NameDto, ...body };
  }
  @UsePipes(MetadataPipe)
  @SubscribeMessage('metadata')
  metadata(@MessageBody('a') a: string, @ConnectedSocket() _s: Socket, @MessageBody() b: object) {
    return { a, b };
  }
  @UseInterceptors(mapping) @SubscribeMessage('mapped') mapped() {
    return 'value';
  }
  @UseInterceptors(replacing) @SubscribeMessage('replaced') replaced() {
    this.journal.calls.push('handler');
    return 'value';
  }
  @UseInterceptors(timingOut) @SubscribeMessage('times-out') async timesOut() {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return 'late';
  }
  @UseInterceptors(throwingFirst) @SubscribeMessage('interceptor-throws') early() {
    this.journal.calls.push('handler');
  }
  @UseInterceptors(asyncIntercept) @SubscribeMessage('async-interceptor') asyncInterceptor() {
    return 'value';
  }
  @UseGuards(RecordingGuard)
  @UseInterceptors(OrderInterceptor)
  @UsePipes(MetadataPipe)
  @SubscribeMessage('order')
  order(@MessageBody() d: unknown) {
    this.journal.calls.push('handler');
    return d;
  }
  @UseInterceptors(PassInterceptor, OrderInterceptor, PassInterceptor)
  @SubscribeMessage('passed')
  passed(@MessageBody() d: unknown) {
    this.journal.calls.push('handler');
    return { d };
  }
  @UseInterceptors(PassInterceptor) @SubscribeMessage('passed-rejects') async passedRejects() {
    throw new BadRequestException('after the pass-through');
  }
  @UseInterceptors(PassInterceptor) @SubscribeMessage('passed-observable') passedObservable() {
    return defer(() => of('first', 'second'));
  }
  @UseInterceptors(PeekInterceptor) @SubscribeMessage('peeked') peeked() {
    this.journal.calls.push('handler');
    return 'seen';
  }
  @UseInterceptors(OrderInterceptor) @SubscribeMessage('promise') async promised() {
    return 'from a promise';
  }
  @UseInterceptors(OrderInterceptor) @SubscribeMessage('observable') observable() {
    return defer(() => of('first', 'second'));
  }
  @SubscribeMessage('promised-observable') async promisedObservable() {
    return of('inner');
  }
  @SubscribeMessage('reply-event') replyEvent(@MessageBody() data: unknown) {
    return { event: 'answer', data };
  }
  @SubscribeMessage('manual') manual(@Ack() ack: (value: unknown) => void) {
    ack('by hand');
    return 'ignored';
  }
  @UseInterceptors(OrderInterceptor) @SubscribeMessage('handler-throws') throws() {
    throw new Error('internal detail');
  }
  @UseInterceptors(OrderInterceptor) @SubscribeMessage('queued') queued(
    @ConnectedSocket() client: Socket,
  ) {
    queueMicrotask(() => client.emit('later'));
    return 'ack';
  }
}

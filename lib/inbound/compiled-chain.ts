import type { ArgumentMetadata, CanActivate, PipeTransform, Type } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { from, isObservable, lastValueFrom, mergeAll, mergeMap, Observable, of } from 'rxjs';
import { WsExecutionContext, type HandlerFunction } from '../context/ws-execution-context.js';
import { FORBIDDEN_MESSAGE, nestHandlerArgs } from '../internals/nest.internals.js';
import type { Socket } from 'socket.io';
import type { SocketCallFrame } from '../context/socket-context.storage.js';
import type { HandlerEnhancers } from './handler-enhancers.js';

/** A compiled handler, called as `DirectHandler` is (the module imports nothing back). */
export type CompiledHandler = (
  socket: Socket,
  data: unknown,
  ack: unknown,
  event: string,
  frame: SocketCallFrame,
) => unknown;

/** One parameter of the handler: where its value comes from and the pipes it goes through. */
export interface CompiledParam {
  readonly index: number;
  readonly extract: (args: unknown[]) => unknown;
  /** The handler's pipes, then the parameter's own (Nest's `pipes.concat(paramPipes)`). */
  readonly pipes: PipeTransform[];
  readonly metadata: ArgumentMetadata;
}

/** What a compiled chain is made of, resolved once when the handler is bound. */
export interface ChainParts extends HandlerEnhancers {
  readonly instance: object;
  readonly metatype: Type;
  readonly method: HandlerFunction;
  readonly pattern: unknown;
  readonly params: CompiledParam[];
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Builds, once per handler, the chain Nest's `WsContextCreator` runs at every event (guards, then
 * interceptors around pipes and the handler) with Nest's semantics but none of its fixed costs:
 * a synchronous guard or pipe answers synchronously, rxjs is used only when an interceptor is
 * there, and one ExecutionContext serves the whole event. Errors are thrown or rejected to the
 * dispatcher, which answers them as the module's filter does.
 */
export function compileChain(parts: ChainParts): CompiledHandler {
  const { instance, metatype, method, pattern, guards, interceptors, params } = parts;
  // The handler's arguments before they are read, as long as its last decorated parameter.
  const blank: unknown[] = Array.from({
    length: params.reduce((n, p) => Math.max(n, p.index + 1), 0),
  });
  const rounds = params.reduce((n, p) => Math.max(n, p.pipes.length), 0);

  const callHandler = (args: unknown[]): unknown => {
    const values = applyPipes(args);
    return isThenable(values)
      ? values.then((v) => method.apply(instance, v as never[]))
      : method.apply(instance, values as never[]);
  };

  // Nest starts every parameter's pipes at once (Promise.all), so the first pipe of each
  // parameter runs before the second of any: the same order here, round by round.
  const applyPipes = (args: unknown[]): unknown[] | PromiseLike<unknown[]> => {
    const values = blank.slice();
    if (rounds === 0) return withoutPipes(args, values);
    const current = params.map((p) => p.extract(args));
    let failure: { error: unknown } | undefined;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < params.length; i++) {
        const { pipes, metadata } = params[i];
        if (round >= pipes.length || current[i] === FAILED) continue;
        const pipe = pipes[round];
        const value = current[i];
        if (isThenable(value)) {
          current[i] = Promise.resolve(value).then((v) => pipe.transform(v, metadata));
          continue;
        }
        try {
          current[i] = pipe.transform(value, metadata);
        } catch (error) {
          // The other parameters' pipes still run, as they do under Promise.all.
          failure ??= { error };
          current[i] = FAILED;
        }
      }
    }
    if (failure) {
      // The parameters still being piped are dropped: their later rejections must not go
      // unhandled (Promise.all would have caught them too).
      for (const value of current) if (isThenable(value)) Promise.resolve(value).catch(noop);
      throw failure.error;
    }
    let async = false;
    for (let i = 0; i < params.length; i++) {
      values[params[i].index] = current[i];
      if (isThenable(current[i])) async = true;
    }
    if (!async) return values;
    return Promise.all(values);
  };

  /** No pipe at all (Nest's ValidationPipe skipped): only a promised value is awaited, as Nest does. */
  const withoutPipes = (args: unknown[], values: unknown[]): unknown[] | Promise<unknown[]> => {
    let async = false;
    for (let i = 0; i < params.length; i++) {
      const value = params[i].extract(args);
      values[params[i].index] = value;
      if (isThenable(value)) async = true;
    }
    return async ? Promise.all(values) : values;
  };

  /**
   * Runs interceptor `i` around the rest, and gives what a handler gives (a value, a promise or
   * an Observable), which the dispatcher settles as Nest's Observable would be. Nest calls an
   * interceptor when the layer above is subscribed, which the dispatcher does at once, so the
   * outer one is called now; `next.handle()` stays lazy (one Observable per layer). An
   * interceptor that returns `next.handle()` itself adds nothing to the value: the layer below
   * then runs directly and no Observable is subscribed at all.
   */
  const layer = (args: unknown[], context: WsExecutionContext, i: number): unknown => {
    if (i >= interceptors.length) return callHandler(args);
    let inner: Observable<unknown> | undefined;
    const handle = () =>
      (inner ??= new Observable((subscriber) => {
        const result = layer(args, context, i + 1);
        if (isObservable(result) || isThenable(result)) {
          return toObservable(result).subscribe(subscriber);
        }
        subscriber.next(result);
        subscriber.complete();
        return undefined;
      }));
    const result = interceptors[i].intercept(context, { handle });
    // (Had it subscribed too, Nest would run the layer below once more for the dispatcher: so do we.)
    if (inner !== undefined && result === inner) return layer(args, context, i + 1);
    return flatten(result);
  };

  const afterGuards = (args: unknown[], context: WsExecutionContext | undefined): unknown =>
    interceptors.length ? layer(args, context as WsExecutionContext, 0) : callHandler(args);

  const needsContext = guards.length > 0 || interceptors.length > 0;
  return (socket, data, ack, event, frame) => {
    // The arguments Nest's proxy sees: the client first, the pattern last.
    const args = nestHandlerArgs(socket, data, ack, event, frame, pattern);
    const context = needsContext ? new WsExecutionContext(args, metatype, method) : undefined;
    if (guards.length) {
      const allowed = activate(guards, context as WsExecutionContext, 0);
      if (allowed !== true) return allowed.then(() => afterGuards(args, context));
    }
    return afterGuards(args, context);
  };
}

const FAILED = Symbol('failed');

/** Runs guards in order: true when all allowed synchronously, a promise when one is async. */
function activate(
  guards: CanActivate[],
  context: WsExecutionContext,
  first: number,
): true | Promise<void> {
  for (let i = first; i < guards.length; i++) {
    const result: unknown = guards[i].canActivate(context);
    if (typeof result === 'boolean' || (!isThenable(result) && !isObservable(result))) {
      if (!result) throw new WsException(FORBIDDEN_MESSAGE);
      continue;
    }
    return settleGuard(result).then((ok) => {
      if (!ok) throw new WsException(FORBIDDEN_MESSAGE);
      const rest = activate(guards, context, i + 1);
      return rest === true ? undefined : rest;
    });
  }
  return true;
}

/** Nest's `GuardsConsumer.pickResult`: a promise is awaited, an Observable gives its last value. */
async function settleGuard(result: unknown): Promise<unknown> {
  const value = await result;
  return isObservable(value) ? lastValueFrom(value) : value;
}

/** What `next.handle()` emits: the handler's value, its promise's value, or its Observable's. */
function toObservable(result: unknown): Observable<unknown> {
  if (isObservable(result)) return result;
  if (isThenable(result)) {
    return from(result).pipe(mergeMap((v) => (isObservable(v) ? v : of(v))));
  }
  return of(result);
}

/** An interceptor may return its Observable or a promise of it (an async `intercept`). */
function flatten(result: unknown): Observable<unknown> {
  if (isObservable(result)) return result;
  return from(Promise.resolve(result) as Promise<Observable<unknown>>).pipe(mergeAll());
}

function noop(): void {}

import type { ArgumentsHost, ExecutionContext, Type } from '@nestjs/common';

// Nest's root does not export the three hosts' interfaces.
type WsArgumentsHost = ReturnType<ArgumentsHost['switchToWs']>;
/** What `switchToHttp()` gives. */
export type HttpArgumentsHost = ReturnType<ArgumentsHost['switchToHttp']>;
type RpcArgumentsHost = ReturnType<ArgumentsHost['switchToRpc']>;

/** A handler as Nest hands it to guards: the method itself. */
export type HandlerFunction = (...args: never[]) => unknown;

/**
 * An ExecutionContext of type `'ws'` over handler arguments `[client, data, ack, ..., pattern]`,
 * as Nest builds one for gateway handlers: what guards and custom parameter decorators receive
 * where the adapter calls them itself.
 */
export class WsExecutionContext implements ExecutionContext {
  constructor(
    protected readonly args: unknown[],
    private readonly metatype: Type,
    private readonly handler: HandlerFunction,
  ) {}

  getClass<T = unknown>(): Type<T> {
    return this.metatype as Type<T>;
  }
  getHandler(): HandlerFunction {
    return this.handler;
  }
  getArgs<T extends unknown[] = unknown[]>(): T {
    return this.args as T;
  }
  getArgByIndex<T = unknown>(index: number): T {
    return this.args[index] as T;
  }
  getType<T extends string = 'ws'>(): T {
    return 'ws' as T;
  }
  switchToWs(): WsArgumentsHost {
    const args = this.args;
    return {
      getClient: <T>() => args[0] as T,
      getData: <T>() => args[1] as T,
      getPattern: () => args[args.length - 1] as string,
    };
  }
  switchToHttp(): HttpArgumentsHost {
    const args = this.args;
    return {
      getRequest: <T>() => args[0] as T,
      getResponse: <T>() => args[1] as T,
      getNext: <T>() => args[2] as T,
    };
  }
  switchToRpc(): RpcArgumentsHost {
    const args = this.args;
    return { getData: <T>() => args[0] as T, getContext: <T>() => args[1] as T };
  }
}

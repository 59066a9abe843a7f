import type { ExecutionContext, Type } from '@nestjs/common';

/**
 * An ExecutionContext of type `'ws'` over handler arguments `[client, data, ack, ..., pattern]`,
 * as Nest builds one for gateway handlers: what guards and custom parameter decorators receive
 * where the adapter calls them itself.
 */
export class WsExecutionContext implements ExecutionContext {
  constructor(
    protected readonly args: unknown[],
    private readonly metatype: Type,
    private readonly handler: (...args: any[]) => unknown,
  ) {}

  getClass<T = any>(): Type<T> {
    return this.metatype as Type<T>;
  }
  getHandler(): (...args: any[]) => unknown {
    return this.handler;
  }
  getArgs<T extends any[] = any[]>(): T {
    return this.args as T;
  }
  getArgByIndex<T = any>(index: number): T {
    return this.args[index] as T;
  }
  getType<T extends string = 'ws'>(): T {
    return 'ws' as T;
  }
  switchToWs(): any {
    return {
      getClient: () => this.args[0],
      getData: () => this.args[1],
      getPattern: () => this.args[this.args.length - 1],
    };
  }
  switchToHttp(): any {
    return {
      getRequest: () => this.args[0],
      getResponse: () => this.args[1],
      getNext: () => this.args[2],
    };
  }
  switchToRpc(): any {
    return { getData: () => this.args[0], getContext: () => this.args[1] };
  }
}

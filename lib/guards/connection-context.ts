import type { ExecutionContext, Type } from '@nestjs/common';
import type { Socket } from 'socket.io';

/**
 * The ExecutionContext a connection guard receives: type `'ws'`, the socket as client, the
 * handshake's `auth` payload as data, and `'connection'` as pattern.
 */
export class ConnectionExecutionContext implements ExecutionContext {
  private readonly args: unknown[];

  constructor(
    private readonly socket: Socket,
    private readonly gateway: Type | undefined,
    private readonly handler: (...args: any[]) => unknown,
  ) {
    this.args = [socket, socket.handshake.auth, undefined, 'connection'];
  }

  getClass<T = any>(): Type<T> {
    return (this.gateway ?? Object) as Type<T>;
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
      getClient: () => this.socket,
      getData: () => this.socket.handshake.auth,
      getPattern: () => 'connection',
    };
  }
  switchToHttp(): any {
    return {
      getRequest: () => this.socket.request,
      getResponse: () => undefined,
      getNext: () => undefined,
    };
  }
  switchToRpc(): any {
    return { getData: () => this.socket.handshake.auth, getContext: () => this.socket };
  }
}

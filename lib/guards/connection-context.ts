import type { Type } from '@nestjs/common';
import type { Socket } from 'socket.io';
import {
  WsExecutionContext,
  type HandlerFunction,
  type HttpArgumentsHost,
} from '../context/ws-execution-context.js';

/**
 * The ExecutionContext a connection guard receives: type `'ws'`, the socket as client, the
 * handshake's `auth` payload as data, and `'connection'` as pattern; `switchToHttp()` gives the
 * handshake's HTTP request, for guards written for HTTP.
 */
export class ConnectionExecutionContext extends WsExecutionContext {
  constructor(
    private readonly socket: Socket,
    gateway: Type | undefined,
    handler: HandlerFunction,
  ) {
    super([socket, socket.handshake.auth, undefined, 'connection'], gateway ?? Object, handler);
  }

  override switchToHttp(): HttpArgumentsHost {
    const request = this.socket.request;
    return {
      getRequest: <T>() => request as T,
      getResponse: <T>() => undefined as T,
      getNext: <T>() => undefined as T,
    };
  }
}

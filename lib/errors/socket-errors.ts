import { HttpException, Inject, Injectable } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { SocketContext } from '../context/socket-context.js';
import { GatewayRegistry } from '../inbound/gateway-registry.js';
import { SocketIOConfig } from '../socket-io.config.js';
import type { SocketErrorHandler } from '../interfaces/socket-io-module-options.interface.js';
import { ConnectionRefusedError } from './connection-refused.error.js';
import { toErrorReply } from './error-reply.js';
import { deliver, type SocketErrorResponder } from './socket-exception.filter.js';
import { SocketObservability } from '../observability/socket-observability.js';

/**
 * Answers errors for one application: the namespace's `@OnSocketError()` method, else the
 * `defaultErrorHandler`, may replace the default reply; unexpected errors are logged with their
 * stack and reach the client only as `Internal server error`.
 */
@Injectable()
export class SocketErrors implements SocketErrorResponder {
  constructor(
    @Inject(SocketIOConfig) private readonly config: SocketIOConfig,
    @Inject(GatewayRegistry) private readonly gateways: GatewayRegistry,
    @Inject(SocketContext) private readonly context: SocketContext,
    @Inject(SocketObservability) private readonly observe: SocketObservability,
  ) {}

  async respond(
    err: unknown,
    socket: Socket,
    ack: ((reply: unknown) => void) | undefined,
    event?: string,
  ): Promise<void> {
    const { reply, expected } = toErrorReply(err);
    this.observe.errorReplied(socket, reply.error.status, reply.error.message, err, event);
    if (!expected) this.logUnexpected(err, socket);
    let answer: unknown = reply;
    const custom = await this.runHandler(err, socket);
    if (custom !== undefined) answer = custom;
    try {
      deliver(socket, ack, answer);
    } catch (deliveryError) {
      this.logUnexpected(deliveryError, socket);
    }
  }

  /**
   * Decides what a failed connection attempt becomes: a refusal (returned) or an acceptance
   * (undefined), as Flask-SocketIO does: a handler that returns false refuses.
   */
  async connectError(err: unknown, socket: Socket): Promise<ConnectionRefusedError | undefined> {
    if (err instanceof ConnectionRefusedError) return err;
    const handler = this.handlerOf(socket);
    if (handler) {
      try {
        const result = await handler(err, this.context);
        if (result === false) return new ConnectionRefusedError();
        return undefined;
      } catch (handlerError) {
        if (handlerError instanceof ConnectionRefusedError) return handlerError;
        err = handlerError;
      }
    }
    if (err instanceof HttpException || err instanceof WsException) {
      const { reply } = toErrorReply(err);
      const message = Array.isArray(reply.error.message)
        ? reply.error.message.join('; ')
        : reply.error.message;
      return new ConnectionRefusedError(message, {
        status: reply.error.status,
        ...(reply.error.data ? { details: reply.error.data } : {}),
      });
    }
    this.logUnexpected(err, socket);
    return new ConnectionRefusedError('Internal server error');
  }

  private async runHandler(err: unknown, socket: Socket): Promise<unknown> {
    const handler = this.handlerOf(socket);
    if (!handler) return undefined;
    try {
      return await handler(err, this.context);
    } catch (handlerError) {
      this.logUnexpected(handlerError, socket);
      return undefined;
    }
  }

  /** The namespace's `@OnSocketError()` method, else the `defaultErrorHandler` option. */
  private handlerOf(socket: Socket): SocketErrorHandler | undefined {
    return this.gateways.errorHandlerOf(socket.nsp) ?? this.config.options.defaultErrorHandler;
  }

  private logUnexpected(err: unknown, socket: Socket): void {
    const message = err instanceof Error ? err.message : String(err);
    this.config.logger.error(
      `Unhandled error for client ${socket.id} in namespace ${socket.nsp.name}: ${message}`,
      err instanceof Error ? err.stack : undefined,
    );
  }
}

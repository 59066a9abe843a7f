import { Catch, Logger, type ArgumentsHost, type WsExceptionFilter } from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { SocketCallFrame } from '../context/socket-context.storage.js';
import { toErrorReply, type SocketErrorReply } from './error-reply.js';

/** What answers a failed event for one application; set on each of its servers. */
export interface SocketErrorResponder {
  respond(
    err: unknown,
    socket: Socket,
    ack: ((reply: unknown) => void) | undefined,
    event?: string,
  ): Promise<void>;
}

const RESPONDER = Symbol.for('nest-socketio:error-responder');

/** Links a server to the responder of the application that owns it. */
export function setErrorResponder(server: Server, responder: SocketErrorResponder): void {
  (server as unknown as Record<symbol, unknown>)[RESPONDER] = responder;
}

function responderOf(socket: Socket): SocketErrorResponder | undefined {
  return (socket?.nsp?.server as unknown as Record<symbol, SocketErrorResponder> | undefined)?.[
    RESPONDER
  ];
}

/**
 * Put first on every gateway (so a filter of the user's own still wins): answers any error of a
 * handler, guard, interceptor or pipe through the ack, or an `exception` event. Holds no state,
 * so one instance serves every application in the process.
 */
@Catch()
export class SocketExceptionFilter implements WsExceptionFilter {
  private readonly logger = new Logger('SocketIO');

  catch(exception: unknown, host: ArgumentsHost): void {
    const socket = host.getArgByIndex<Socket>(0);
    const maybeAck = host.getArgByIndex<unknown>(2);
    const ack = typeof maybeAck === 'function' ? (maybeAck as (reply: unknown) => void) : undefined;
    const frame = host.getArgByIndex<unknown>(4);
    if (frame instanceof SocketCallFrame) frame.failed = true;
    const responder = responderOf(socket);
    if (responder) {
      void responder.respond(exception, socket, ack);
      return;
    }
    // A gateway served by another adapter: still answer, never leak internals.
    const { reply, expected } = toErrorReply(exception);
    if (!expected)
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    deliver(socket, ack, reply);
  }
}

/** Sends an error reply through the ack when the client asked for one, else as `exception`. */
export function deliver(
  socket: Socket,
  ack: ((reply: unknown) => void) | undefined,
  reply: unknown,
): void {
  if (ack) ack(reply);
  else socket.emit('exception', reply as SocketErrorReply);
}

/** The one filter instance added to gateways. */
export const socketExceptionFilter = new SocketExceptionFilter();

import { createParamDecorator, Injectable, type ExecutionContext } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { SocketService } from '../outbound/socket.service.js';
import {
  connectionSession,
  sessionOf,
  SocketCallFrame,
  SocketContextStorage,
} from './socket-context.storage.js';
import type { CallOptions, EmitOptions } from '../interfaces/socket-service.interface.js';
import type { SocketContextApi } from './socket-context.interface.js';

/**
 * The client a handler runs for, as Flask-SocketIO's `request.sid` and its module functions:
 * valid inside message handlers, `handleConnection`, `handleDisconnect`, error handlers and
 * anything they call, however deep.
 */
@Injectable()
export class SocketContext implements SocketContextApi {
  constructor(
    private readonly storage: SocketContextStorage,
    private readonly sockets: SocketService,
  ) {}

  private get frame(): SocketCallFrame {
    const frame = this.storage.current;
    if (!frame) {
      throw new Error(
        'SocketContext is only available inside a socket handler (a message handler, handleConnection, handleDisconnect or an error handler) and what it calls',
      );
    }
    return frame;
  }

  /** True when called inside a socket handler. */
  get active(): boolean {
    return this.storage.current !== undefined;
  }

  /** The client's session id. */
  get sid(): string {
    return this.frame.socket.id;
  }

  /** The namespace the client is connected to. */
  get namespace(): string {
    return this.frame.socket.nsp.name;
  }

  /** The socket.io socket of the client. */
  get socket(): Socket {
    return this.frame.socket;
  }

  /** The event being handled (undefined in connect and disconnect handlers); args exclude the ack. */
  get event(): { name: string; args: unknown[] } | undefined {
    const { eventName, args } = this.frame;
    return eventName === undefined ? undefined : { name: eventName, args: args ?? [] };
  }

  /** The client's session: its own copy (managed) or the HTTP session (unmanaged). */
  get session(): Record<string, unknown> {
    return sessionOf(this.frame);
  }

  /** The handshake: auth, query and headers the client connected with. */
  get handshake(): Socket['handshake'] {
    return this.frame.socket.handshake;
  }

  /**
   * Emits to the current client, or with options as `SocketService.emit` does
   * (`{ broadcast: true }` reaches the whole namespace).
   * @example ctx.emit('welcome', { name });
   */
  emit(event: string, data?: unknown, options?: EmitOptions & { broadcast?: boolean }): void {
    const socket = this.frame.socket;
    if (!options) {
      // Undefined data sends no argument (a bare `undefined` would reach the client as null).
      if (data === undefined) socket.emit(event);
      else socket.emit(event, data);
      return;
    }
    const { broadcast, ...rest } = options;
    if (!broadcast && rest.to === undefined) rest.to = socket.id;
    this.sockets.emit(event, data, { namespace: socket.nsp.name, ...rest });
  }

  /** Sends a `message` event, as `emit('message', data, options)`. */
  send(data: unknown, options?: EmitOptions & { broadcast?: boolean }): void {
    this.emit('message', data, options);
  }

  /** Emits to the current client (unless `to` says otherwise) and resolves with its ack. */
  call<T = unknown>(event: string, data?: unknown, options?: Partial<CallOptions>): Promise<T> {
    const socket = this.frame.socket;
    return this.sockets.call<T>(event, data, {
      to: socket.id,
      namespace: socket.nsp.name,
      ...options,
    });
  }

  /** Puts the current client in a room. */
  joinRoom(room: string | string[]): Promise<void> {
    const socket = this.frame.socket;
    return this.sockets.joinRoom(room, { sid: socket.id, namespace: socket.nsp.name });
  }

  /** Takes the current client out of a room. */
  leaveRoom(room: string): Promise<void> {
    const socket = this.frame.socket;
    return this.sockets.leaveRoom(room, { sid: socket.id, namespace: socket.nsp.name });
  }

  /** The rooms of the current client, its own sid room included. */
  rooms(): Promise<string[]> {
    const socket = this.frame.socket;
    return this.sockets.rooms({ sid: socket.id, namespace: socket.nsp.name });
  }

  /** Disconnects the current client. */
  disconnect(): Promise<void> {
    const socket = this.frame.socket;
    return this.sockets.disconnect({ sid: socket.id, namespace: socket.nsp.name });
  }
}

/** Handler parameter: the client's sid. */
export const Sid = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string => ctx.switchToWs().getClient<Socket>().id,
);

/** Handler parameter: the event's name (the real one in a `'*'` catch-all handler). */
export const EventName = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  // The adapter passes the event name after the ack; Nest appends the pattern after that.
  const name = ctx.getArgByIndex(3);
  return typeof name === 'string' ? name : ctx.switchToWs().getPattern();
});

/** Handler parameter: the client's session object (see `SocketContext.session`). */
export const SocketSession = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const socket = ctx.switchToWs().getClient<Socket>();
  // The adapter passes the call frame after the event name (see SocketIOAdapter.dispatch).
  const frame = ctx.getArgByIndex(4);
  return frame instanceof SocketCallFrame && frame.socket === socket
    ? sessionOf(frame)
    : connectionSession(socket);
});

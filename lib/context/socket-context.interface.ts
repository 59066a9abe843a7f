import type { Socket } from 'socket.io';
import type { CallOptions, EmitOptions } from '../interfaces/socket-service.interface.js';

/**
 * What `SocketContext` offers, as an interface: the files below the context (options, errors)
 * name this, so they need not import the context and everything it imports.
 */
export interface SocketContextApi {
  readonly active: boolean;
  readonly sid: string;
  readonly namespace: string;
  readonly socket: Socket;
  readonly event: { name: string; args: unknown[] } | undefined;
  readonly session: Record<string, unknown>;
  readonly handshake: Socket['handshake'];
  emit(event: string, data?: unknown, options?: EmitOptions & { broadcast?: boolean }): void;
  send(data: unknown, options?: EmitOptions & { broadcast?: boolean }): void;
  call<T = unknown>(event: string, data?: unknown, options?: Partial<CallOptions>): Promise<T>;
  joinRoom(room: string | string[]): Promise<void>;
  leaveRoom(room: string): Promise<void>;
  rooms(): Promise<string[]>;
  disconnect(): Promise<void>;
}

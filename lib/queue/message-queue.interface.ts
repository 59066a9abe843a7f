import type { Server } from 'socket.io';
import type { RemoteClients } from './remote-clients.js';

/** A broadcast target of an emitter (`@socket.io/redis-emitter`, `@socket.io/postgres-emitter`). */
export interface EmitterOperator {
  to(room: string | string[]): EmitterOperator;
  in(room: string | string[]): EmitterOperator;
  except(room: string | string[]): EmitterOperator;
  compress(compress: boolean): EmitterOperator;
  readonly volatile: EmitterOperator;
  emit(event: string, ...args: unknown[]): unknown;
  socketsJoin(room: string | string[]): void;
  socketsLeave(room: string | string[]): void;
  disconnectSockets(close?: boolean): void;
}

/** Told when a connection of the queue is lost (`down`) and when it is back (`up`). */
export interface QueueStateListener {
  queueState(state: 'down' | 'up', queue: string, role: string, reason?: string): void;
}

/** What the module gets from a message queue: an adapter for servers, an emitter for workers. */
export interface MessageQueue {
  /** Passed to `server.adapter()` for every server (absent in emitter-only mode). */
  readonly adapter?: unknown;
  /** The operator of a namespace, for emitter-only mode. */
  emitter?(namespace: string): EmitterOperator;
  /** Room and disconnect helpers for clients of other processes. */
  remoteClients(server: Server | undefined): RemoteClients;
  /** Resolves when the queue answers, rejects with the reason when it does not (health checks). */
  probe?(): Promise<void>;
  /** Closes every connection the queue opened. */
  close(): Promise<void>;
}

/**
 * A broadcast target: a socket.io namespace or broadcast operator, or an emitter's
 * (`@socket.io/redis-emitter`, `@socket.io/postgres-emitter`). The part emits and room helpers use.
 */
export interface BroadcastOperator {
  to(room: string | string[]): BroadcastOperator;
  in(room: string | string[]): BroadcastOperator;
  except(room: string | string[]): BroadcastOperator;
  compress(compress: boolean): BroadcastOperator;
  readonly volatile: BroadcastOperator;
  emit(event: string, ...args: unknown[]): unknown;
  socketsJoin(room: string | string[]): void;
  socketsLeave(room: string | string[]): void;
  disconnectSockets(close?: boolean): void;
}

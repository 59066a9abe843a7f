import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';

/** What one handler invocation knows: the client, and the event when there is one. */
export class SocketCallFrame {
  /** Session of this invocation when sessions are unmanaged (read from the store per event). */
  session?: Record<string, unknown>;
  /** The event ended in an error reply (a refusal or a throw): its unmanaged session is not saved. */
  failed?: boolean;
  /** In a disconnect handler: the rooms the client was in (socket.io has emptied them by then). */
  roomsAtDisconnect?: string[];
  /** The event's observation while a channel subscriber or an OpenTelemetry SDK listens. */
  observation?: { mark(status: number, error: unknown): void };
  constructor(
    readonly socket: Socket,
    readonly eventName?: string,
    readonly args?: unknown[],
  ) {}
}

/** Holds the current `SocketCallFrame` across awaits; one per application. */
@Injectable()
export class SocketContextStorage {
  private readonly storage = new AsyncLocalStorage<SocketCallFrame>();

  run<R>(frame: SocketCallFrame, fn: () => R): R {
    return this.storage.run(frame, fn);
  }

  exit<R>(fn: () => R): R {
    return this.storage.exit(fn);
  }

  get current(): SocketCallFrame | undefined {
    return this.storage.getStore();
  }
}

// A WeakMap, not a property on the socket: one more property on every socket.io Socket makes V8
// grow each socket's property store, which costs more per connection than an entry here. Keyed
// by socket objects, so two applications in one process never see each other's sessions.
const sessions = new WeakMap<Socket, Record<string, unknown>>();

/** The managed (per-connection) session of a socket, created empty on first use. */
export function connectionSession(socket: Socket): Record<string, unknown> {
  let session = sessions.get(socket);
  if (!session) sessions.set(socket, (session = {}));
  return session;
}

/** Replaces the managed session of a socket (at connect, from the HTTP session). */
export function setConnectionSession(socket: Socket, session: Record<string, unknown>): void {
  sessions.set(socket, session);
}

/** The session a handler sees: the per-event one (unmanaged) or the connection's (managed). */
export function sessionOf(frame: SocketCallFrame): Record<string, unknown> {
  return frame.session ?? connectionSession(frame.socket);
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';

/** What one handler invocation knows: the client, and the event when there is one. */
export class SocketCallFrame {
  /** Session of this invocation when sessions are unmanaged (read from the store per event). */
  session?: Record<string, unknown>;
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

const SESSION = Symbol('nest-socketio:session');

/** The managed (per-connection) session of a socket, created empty on first use. */
export function connectionSession(socket: Socket): Record<string, unknown> {
  const holder = socket as unknown as { [SESSION]?: Record<string, unknown> };
  return (holder[SESSION] ??= {});
}

/** Replaces the managed session of a socket (at connect, from the HTTP session). */
export function setConnectionSession(socket: Socket, session: Record<string, unknown>): void {
  (socket as unknown as { [SESSION]?: Record<string, unknown> })[SESSION] = session;
}

/** The session a handler sees: the per-event one (unmanaged) or the connection's (managed). */
export function sessionOf(frame: SocketCallFrame): Record<string, unknown> {
  return frame.session ?? connectionSession(frame.socket);
}

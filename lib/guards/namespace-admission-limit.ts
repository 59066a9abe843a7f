import { Inject, Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ConnectionRefusedError } from '../errors/connection-refused.error.js';
import { connectionHasNamespace } from '../internals/socket-io.internals.js';
import { SocketObservability } from '../observability/socket-observability.js';

/** Admissions (guards, session, handleConnection) one connection may have under way at once. */
export const MAX_PENDING_ADMISSIONS = 8;
/** Refused CONNECT packets after which the connection is closed. */
export const MAX_REFUSED_CONNECTS = 3;

/** What one Engine.IO connection has asked for. */
interface ClientState {
  pending: Set<string>;
  refused: number;
}

/**
 * One socket per namespace per connection: a CONNECT packet for a namespace the connection is
 * in (or being admitted to) is refused, as is one past MAX_PENDING_ADMISSIONS admissions under
 * way; a connection that insists (MAX_REFUSED_CONNECTS refusals) is closed. It runs before the
 * admission, so a flood of CONNECT packets in one request runs no guard or handler.
 */
@Injectable()
export class NamespaceAdmissionLimit {
  private readonly clients = new WeakMap<object, ClientState>();

  constructor(@Inject(SocketObservability) private readonly observability: SocketObservability) {}

  /**
   * Calls `admit` with the callback to call once decided, or refuses the socket (`next(error)`).
   */
  enter(
    socket: Socket,
    next: (err?: Error) => void,
    admit: (done: (err?: Error) => void) => void,
  ): void {
    const client = socket.client;
    let state = this.clients.get(client);
    if (!state) this.clients.set(client, (state = { pending: new Set(), refused: 0 }));
    const name = socket.nsp.name;
    let refusal: string | undefined;
    if (client.conn.readyState !== 'open') refusal = 'Connection closed';
    else if (connectionHasNamespace(socket, name) || state.pending.has(name)) {
      refusal = 'Already connected to this namespace';
    } else if (state.pending.size >= MAX_PENDING_ADMISSIONS) {
      refusal = 'Too many connections pending';
    }
    if (refusal) {
      // Reported (log, channel, metric) as every other refusal is.
      const error = new ConnectionRefusedError(refusal);
      this.observability.refused(socket, error);
      next(error);
      if (++state.refused === MAX_REFUSED_CONNECTS) client.conn.close();
      return;
    }
    const pending = state.pending;
    pending.add(name);
    admit((err) => {
      next(err);
      // socket.io connects the socket (to its connection) in a process.nextTick queued by next():
      // this one runs after it, so the namespace is never free in between.
      process.nextTick(() => pending.delete(name));
    });
  }
}

import type { Namespace, Socket } from 'socket.io';
import { existingNamespace } from '../internals/socket-io.internals.js';

/** A `track`, `update` or `untrack` for a client that another process may serve. */
export interface PresenceOperation {
  op: 'track' | 'update' | 'untrack';
  topic: string;
  key?: string;
  meta?: Record<string, unknown>;
}

type Addressed = PresenceOperation & { sid: string; namespace: string };

const RELAY_EVENT = 'nest-socketio:presence-op';

/**
 * Runs presence operations on the process that serves the client (presences belong to the
 * process of their client, so they end with it): asked of every process, answered by the one
 * that has the socket.
 */
export class PresenceRelay {
  private readonly listener: (operation: Addressed, ack: (done: boolean) => void) => void;

  constructor(
    private readonly nsp: Namespace,
    perform: (operation: PresenceOperation, socket: Socket) => Promise<void>,
  ) {
    this.listener = (operation, ack) => {
      if (typeof ack !== 'function') return;
      const socket = existingNamespace(nsp.server, operation?.namespace)?.sockets.get(
        operation?.sid,
      );
      if (!socket?.connected) return ack(false);
      perform(operation, socket).then(
        () => ack(true),
        () => ack(false),
      );
    };
    nsp.on(RELAY_EVENT, this.listener);
  }

  /** True once the serving process has done it; false when no process serves the client. */
  async forward(operation: Addressed): Promise<boolean> {
    try {
      // The adapter's own request timeout applies (5 s by default).
      const answers: unknown[] = await this.nsp.serverSideEmitWithAck(RELAY_EVENT, operation);
      return answers.includes(true);
    } catch (err) {
      // A timeout still brings the answers that came.
      const answers = (err as { responses?: unknown[] })?.responses;
      return Array.isArray(answers) && answers.includes(true);
    }
  }

  close(): void {
    this.nsp.off(RELAY_EVENT, this.listener as never);
  }
}

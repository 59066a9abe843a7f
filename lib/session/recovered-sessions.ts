import type { Socket } from 'socket.io';
import { connectionSession } from '../context/socket-context.storage.js';
import { recoveryId } from '../internals/socket-io.internals.js';

/** socket.io's default `maxDisconnectionDuration`. */
const DEFAULT_RECOVERY_WINDOW = 2 * 60 * 1000;

interface Kept {
  sessionId: string | undefined;
  session: Record<string, unknown>;
  timer: NodeJS.Timeout;
}

/**
 * With `connectionStateRecovery`, the managed session of a client that went away, kept for as
 * long as socket.io keeps its state (keyed by the private id it recovers with), so a recovered
 * client finds what its handlers wrote. Only for the same HTTP session id; in this process only.
 */
export class RecoveredSessions {
  private readonly kept = new Map<string, Kept>();

  constructor(private readonly window = DEFAULT_RECOVERY_WINDOW) {}

  /** Keeps the socket's managed session when it disconnects. */
  watch(socket: Socket, sessionId: string | undefined): void {
    socket.once('disconnect', () => {
      const pid = recoveryId(socket);
      if (!pid) return;
      const timer = setTimeout(() => this.kept.delete(pid), this.window).unref();
      this.kept.set(pid, { sessionId, session: connectionSession(socket), timer });
    });
  }

  /** The session a recovered socket had, when its HTTP session is the same one. */
  take(socket: Socket, sessionId: string | undefined): Record<string, unknown> | undefined {
    const pid = recoveryId(socket);
    if (!socket.recovered || !pid) return undefined;
    const kept = this.kept.get(pid);
    if (!kept) return undefined;
    this.kept.delete(pid);
    clearTimeout(kept.timer);
    return kept.sessionId === sessionId ? kept.session : undefined;
  }
}

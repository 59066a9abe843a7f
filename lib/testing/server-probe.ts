import type { Socket } from 'socket.io';

/** How the client sees the server's side of its connection (the app runs in the same process). */
export interface ServerProbe {
  /** The server's socket of a client, when the module's server has it. */
  socket(namespace: string, sid: string): Socket | undefined;
}

interface Counter {
  count: number;
  waiters: { target: number; resolve: () => void }[];
}

const counters = new WeakMap<Socket, Counter>();

/** Counts the events the server's socket received (onAny runs before middleware and handlers). */
function counterOf(socket: Socket): Counter {
  let counter = counters.get(socket);
  if (counter) return counter;
  const created: Counter = { count: 0, waiters: [] };
  counter = created;
  counters.set(socket, created);
  const release = (all: boolean) => {
    created.waiters = created.waiters.filter((w) => {
      if (!all && w.target > created.count) return true;
      w.resolve();
      return false;
    });
  };
  socket.prependAny(() => {
    created.count += 1;
    release(false);
  });
  socket.once('disconnect', () => release(true));
  return created;
}

/** Starts counting a server socket's events (call when it connects, before the client emits). */
export function watchServerSocket(socket: Socket): void {
  counterOf(socket);
}

/** Resolves once the server's socket received `target` events in all, or disconnected. */
export function serverReceived(socket: Socket, target: number): Promise<void> {
  const counter = counterOf(socket);
  if (counter.count >= target || !socket.connected) return Promise.resolve();
  return new Promise((resolve) => counter.waiters.push({ target, resolve }));
}

/** Lets handlers that finish within a few ticks (no real I/O) finish. */
export async function settleTicks(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

import type { Namespace, Server, Socket } from 'socket.io';

/**
 * Every private or undocumented detail of socket.io this package relies on, in one place;
 * test/unit/internals/socket-io.internals.spec.ts checks each against the installed socket.io.
 *
 * Checked on socket.io 4.8.3 (engine.io 6.6.12).
 */
export const SOCKET_IO_CHECKED_VERSION = '4.8.3';

/** An existing namespace of a server; `server.of(name)` would create it (and open it to clients). */
export function existingNamespace(server: Server, name: string): Namespace | undefined {
  return server._nsps.get(name);
}

/** Every namespace a server has now (`/`, gateways', dynamic children, the admin UI's). */
export function namespacesOf(server: Server): Namespace[] {
  return [...server._nsps.values()];
}

/** Refuses every new connection from now on: engine.io reads `allowRequest` on each request. */
export function refuseNewClients(server: Server, reason: string): void {
  if (!server.engine) return;
  server.engine.opts.allowRequest = (_req, callback) => callback(reason, false);
}

/**
 * socket.io's own `Server.close()` (disconnect every client, close each namespace's adapter, close
 * the engine), except that an HTTP server shared with the application stays open: Nest closes it.
 * `close()` closes `httpServer` only when it has one.
 */
export async function closeServer(server: Server, sharedHttpServer: unknown): Promise<void> {
  if (!server.httpServer || server.httpServer !== sharedHttpServer) return server.close();
  const shared = server.httpServer;
  (server as { httpServer: unknown }).httpServer = undefined;
  try {
    await server.close();
  } finally {
    server.httpServer = shared;
  }
}

/** The private id a client recovers its state with (`connectionStateRecovery`), if it has one. */
export function recoveryId(socket: Socket): string | undefined {
  return (socket as unknown as { pid?: string }).pid;
}

/** True when the socket's connection already holds a socket in `namespace` (`client.nsps`). */
export function connectionHasNamespace(socket: Socket, namespace: string): boolean {
  return (socket.client as unknown as { nsps: Map<string, Socket> }).nsps.has(namespace);
}

/** socket.io-parser's `PacketType.CONNECT` (the parser is not a dependency of ours). */
export const CONNECT_PACKET = 0;

/**
 * Holds the packets written to one socket (`Socket.prototype.packet`, private, which every emit
 * to the socket goes through) until the admission decision. Once accepted, they follow
 * socket.io's CONNECT packet (written a tick after the middleware), as the protocol wants.
 */
export function holdPackets(socket: Socket): { release(): void; drop(): void } {
  const target = socket as unknown as {
    packet(packet: { type: number }, ...rest: unknown[]): void;
  };
  const held: [{ type: number }, ...unknown[]][] = [];
  let accepted = false;
  // An own property shadows Socket.prototype.packet; deleting it restores the original.
  target.packet = (...args) => {
    if (!accepted || args[0].type !== CONNECT_PACKET) return void held.push(args);
    restore();
    target.packet(...args);
    for (const packet of held) target.packet(...packet);
  };
  const restore = () => delete (target as { packet?: unknown }).packet;
  return {
    release() {
      accepted = true;
    },
    drop: restore,
  };
}

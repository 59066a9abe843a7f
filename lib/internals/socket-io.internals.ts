import type { Namespace, Server, Socket } from 'socket.io';

/**
 * Every private or undocumented detail of socket.io this package relies on, in one place;
 * test/unit/internals/socket-io.internals.spec.ts checks each against the installed socket.io.
 *
 * Checked on socket.io 4.8.3 (engine.io 6.6.12, socket.io-adapter 2.5.9).
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

/** The members of socket.io-adapter's in-memory `Adapter` that a sliced broadcast goes through. */
interface BroadcastingAdapter {
  rooms: Map<string, Set<string>>;
  sids: Map<string, Set<string>>;
  _encode(packet: { id?: number }, packetOpts: unknown): unknown;
  apply(opts: { rooms: Set<string> }, callback: (socket: Socket) => void): void;
}

/**
 * One broadcast's local delivery, as socket.io-adapter's `Adapter.broadcast` (and
 * `broadcastWithAck`) hands it over: `write` sends the packet, encoded once, to one socket;
 * `collect` enumerates the recipients (rooms and `except` applied), synchronously.
 */
export interface LocalBroadcast {
  collect(each: (socket: Socket) => void): void;
  write(socket: Socket): void;
  /** An upper bound of the recipient count, known without enumerating them. */
  estimate: number;
  /** `broadcastWithAck`: it counts its recipients as `collect` returns. */
  withAck: boolean;
}

/**
 * Routes every local delivery of a namespace adapter's broadcasts to `deliver`, on this adapter
 * instance only. socket.io-adapter 2.5 (`Adapter.broadcast` and `broadcastWithAck`, also when a
 * cluster adapter calls them with `super` for a message from another process) encodes the packet
 * with `this._encode` and at once enumerates the recipients with `this.apply(opts, write)`;
 * `_encode` marks the next `apply` as a broadcast's (a packet with an id is `broadcastWithAck`'s).
 * Other `apply` calls (fetchSockets, socketsJoin...) pass through. Returns false (and changes
 * nothing) for an adapter that does not derive from socket.io-adapter's.
 */
export function interceptBroadcasts(
  adapter: object,
  deliver: (broadcast: LocalBroadcast) => void,
): boolean {
  const target = adapter as BroadcastingAdapter;
  const { _encode: encode, apply } = target;
  if (typeof encode !== 'function' || typeof apply !== 'function') return false;
  if (!(target.rooms instanceof Map) || !(target.sids instanceof Map)) return false;
  let next: boolean | undefined;
  target._encode = function (packet, packetOpts) {
    const encoded = encode.call(this, packet, packetOpts);
    next = packet.id !== undefined;
    return encoded;
  };
  target.apply = function (opts, write) {
    const withAck = next;
    next = undefined;
    if (withAck === undefined) return apply.call(this, opts, write);
    let estimate = 0;
    if (opts.rooms.size === 0) estimate = this.sids.size;
    else for (const room of opts.rooms) estimate += this.rooms.get(room)?.size ?? 0;
    deliver({ collect: (each) => apply.call(this, opts, each), write, estimate, withAck });
  };
  return true;
}

type PacketTarget = { packet(...args: unknown[]): void };

/**
 * A hook that calls `before(socket)` ahead of the next packet written to a socket itself
 * (`socket.emit`, an ack, the disconnect packet: all go through the private
 * `Socket.prototype.packet`). `install` sets it as an own property of the socket (one function
 * shared by every socket, so nothing is allocated per socket; false, and nothing installed,
 * when the socket already has one: held in admission); `release` deletes it again, which
 * restores the socket's hidden class.
 */
export function packetHook(before: (socket: Socket) => void) {
  let original: PacketTarget['packet'] | undefined;
  const hook = function (this: Socket, ...args: unknown[]) {
    before(this);
    return original!.apply(this, args);
  };
  return {
    install(socket: Socket): boolean {
      const target = socket as unknown as PacketTarget;
      if (Object.hasOwn(target, 'packet')) return false;
      original ??= target.packet;
      target.packet = hook;
      return true;
    },
    release(socket: Socket): void {
      const target = socket as unknown as { packet?: unknown };
      if (target.packet === hook && Object.hasOwn(target, 'packet')) delete target.packet;
    },
  };
}

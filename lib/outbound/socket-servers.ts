import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Server, type Namespace, type ServerOptions, type Socket } from 'socket.io';
import { SocketIOConfig } from '../socket-io.config.js';
import { MessageQueue } from '../queue/message-queue.interface.js';
import type { RemoteClients } from '../queue/remote-clients.js';
import type { BroadcastOperator } from '../interfaces/broadcast-operator.interface.js';
import {
  closeServer,
  existingNamespace,
  refuseNewClients,
} from '../internals/socket-io.internals.js';
import { buildServerOptions } from './server-options.js';
import { BroadcastSlicer, slicingSettings } from './broadcast-slicer.js';
import { SocketObservability } from '../observability/socket-observability.js';

/**
 * The application's Socket.IO servers and everything that goes out through them: namespaces,
 * broadcast operators (the server's, or the queue's emitter in an emitter-only worker), the
 * helpers for clients of other processes, packets for clients still being admitted, and
 * shutdown. `SocketService` and `SocketContext` send through it; the adapter only receives.
 */
@Injectable()
export class SocketServers implements OnApplicationShutdown {
  private readonly servers = new Map<string, Server>();
  private readonly closed = new WeakSet<Server>();
  private readonly silenced = new WeakSet<Socket>();
  /** Packets for clients being admitted, sent once they are accepted. */
  private readonly held = new WeakMap<Socket, (() => void)[]>();
  private readonly beforeClose: (() => Promise<void>)[] = [];
  private remoteClients?: RemoteClients;
  private disposed = false;

  constructor(
    @Inject(SocketIOConfig) private readonly config: SocketIOConfig,
    @Inject(MessageQueue) private readonly queue: MessageQueue,
    @Inject(HttpAdapterHost) private readonly httpAdapterHost: HttpAdapterHost,
    @Inject(SocketObservability) private readonly observability: SocketObservability,
  ) {}

  /** The Socket.IO path of the module's server. */
  get path(): string {
    return this.config.path;
  }

  /** The server on the module's path, once created (undefined in emitter-only mode). */
  get server(): Server | undefined {
    return this.servers.get(serverKey(0, this.config.path));
  }

  /** Every server: the module's, and those of gateways on another port or path. */
  get all(): Server[] {
    return [...this.servers.values()];
  }

  /** False once the server was closed (shutdown, `SocketService.stop()`). */
  isServing(server: Server): boolean {
    return !this.closed.has(server) && !this.disposed;
  }

  /** True once the application is closing: no server is created any more. */
  get closing(): boolean {
    return this.disposed;
  }

  /** True when other processes may serve clients: a message queue or a custom adapter. */
  get hasMessageQueue(): boolean {
    return this.queue.adapter !== undefined;
  }

  /** Helpers for clients that another process serves. */
  get remote(): RemoteClients {
    if (this.remoteClients) return this.remoteClients;
    const remote = this.queue.remoteClients(this.server);
    // Kept only once bound to the server (or when there will never be one).
    if (this.server || this.config.options.emitterOnly) this.remoteClients = remote;
    return remote;
  }

  /** An existing namespace of the main server; never creates one (that would open it to clients). */
  namespace(name: string): Namespace | undefined {
    const server = this.server;
    return server ? existingNamespace(server, name) : undefined;
  }

  /** The broadcast operator of a namespace: the server's, or the emitter's in emitter-only mode. */
  operator(name: string): BroadcastOperator {
    if (this.config.options.emitterOnly && this.queue.emitter) return this.queue.emitter(name);
    const nsp = this.namespace(name);
    if (nsp) return nsp as unknown as BroadcastOperator;
    if (!this.server) throw new Error('No Socket.IO server: is the application initialised?');
    // A namespace without a gateway has no clients to reach, and must not be opened by an emit.
    return emptyOperator;
  }

  /**
   * The server of a port and path, created from the module options and the gateway's own
   * (`@WebSocketGateway()` options win for that server) on first use.
   */
  open(port: number, gatewayOptions: Record<string, unknown> = {}): Server {
    const path = (gatewayOptions.path as string | undefined) ?? this.config.path;
    const key = serverKey(port, path);
    const existing = this.servers.get(key);
    if (existing) return existing;
    const { options: moduleOptions, parser, wsEngine } = this.config;
    const options = this.observability.serverOptions(
      buildServerOptions(moduleOptions, parser, path, gatewayOptions, wsEngine),
    );
    const httpServer = port === 0 ? this.httpAdapterHost.httpAdapter?.getHttpServer() : undefined;
    if (port === 0 && !httpServer) {
      throw new Error(
        'SocketIOModule needs an HTTP application (NestFactory.create) to attach to; use emitterOnly: true in a worker',
      );
    }
    const server = httpServer ? new Server(httpServer, options) : new Server(port, options);
    const adapter = this.queue.adapter ?? server.adapter();
    const slicing = slicingSettings(moduleOptions.broadcastSlicing);
    // Each server slices its own broadcasts: two servers (or apps) never wait for each other.
    if (slicing)
      server.adapter(new BroadcastSlicer(slicing).wrap(adapter) as ServerOptions['adapter']);
    else if (this.queue.adapter) server.adapter(adapter as ServerOptions['adapter']);
    this.observability.serverCreated(server);
    this.servers.set(key, server);
    return server;
  }

  /**
   * Sends `deliver` to a client being admitted once it is accepted, never if it is refused: a
   * client in admission is not in its namespace yet, so broadcasts miss it otherwise.
   */
  whenAccepted(socket: Socket, deliver: () => void): void {
    const queued = this.held.get(socket);
    if (queued) queued.push(deliver);
    else this.held.set(socket, [deliver]);
  }

  /** The client was accepted: what was held for it goes out. */
  accepted(socket: Socket): void {
    const queued = this.held.get(socket);
    if (!queued) return;
    this.held.delete(socket);
    for (const deliver of queued) deliver();
  }

  /** The client was refused: what was held for it, and rooms it joined meanwhile, are dropped. */
  refused(socket: Socket): void {
    this.held.delete(socket);
    socket.nsp.adapter.delAll(socket.id);
  }

  /** Skip the server's disconnect handlers for this socket (`disconnect({ silent: true })`). */
  silence(socket: Socket): void {
    this.silenced.add(socket);
  }

  /** True when the socket's disconnect handlers must not run. */
  isSilenced(socket: Socket): boolean {
    return this.silenced.has(socket);
  }

  /** Runs `step` before any server closes (the adapter waits there for handlers in flight). */
  onClose(step: () => Promise<void>): void {
    this.beforeClose.push(step);
  }

  /** Disconnects every client and closes every server (`SocketService.stop()`). */
  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => this.close(s)));
  }

  /**
   * Graceful: refuses new clients first, lets the handlers in flight answer, then disconnects
   * the clients (they reconnect, to another instance when there is one) and closes the server.
   */
  async close(server: Server): Promise<void> {
    if (this.closed.has(server)) return;
    this.closed.add(server);
    refuseNewClients(server, 'Server shutting down');
    await Promise.all(this.beforeClose.map((step) => step()));
    await closeServer(server, this.httpAdapterHost.httpAdapter?.getHttpServer());
  }

  /** Closes every server, then the message queue; once. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.stop();
    await this.queue.close();
  }

  /** @internal Nest lifecycle. */
  async onApplicationShutdown(): Promise<void> {
    await this.dispose();
  }
}

function serverKey(port: number, path: string): string {
  return `${port}:${path}`;
}

const noop = () => emptyOperator;
/** The operator of a namespace that does not exist here: it has no clients to reach. */
const emptyOperator: BroadcastOperator = {
  to: noop,
  in: noop,
  except: noop,
  compress: noop,
  get volatile() {
    return emptyOperator;
  },
  emit: () => true,
  socketsJoin: () => undefined,
  socketsLeave: () => undefined,
  disconnectSockets: () => undefined,
};

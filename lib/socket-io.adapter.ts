import type { LoggerService } from '@nestjs/common';
import type { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { AbstractWsAdapter, type MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import { Server, type Namespace, type ServerOptions, type Socket } from 'socket.io';
import { DEFAULT_PATH } from './socket-io.constants.js';
import { SocketCallFrame, type SocketContextStorage } from './socket-context.storage.js';
import type { SocketContext } from './socket-context.js';
import type { GatewayEntry, GatewayRegistry } from './socket-io.gateways.js';
import { setErrorResponder } from './errors/socket-exception.filter.js';
import { SocketErrors } from './errors/socket-errors.js';
import { ConnectionAdmission } from './guards/connection-admission.js';
import { LocalOnlyClients, type RemoteClients } from './queue/remote-clients.js';
import type { MessageQueue } from './queue/message-queue.interface.js';
import { RateLimit } from './guards/rate-limit.js';
import { HandlerTimeout } from './errors/handler-timeout.js';
import { FastHandlers } from './socket-io.fast-handlers.js';
import { EventDispatcher } from './socket-io.dispatcher.js';
import { buildServerOptions } from './socket-io.server-options.js';
import type { SocketObservability } from './observability/socket-observability.js';
import type { SocketIOModuleOptions } from './interfaces/socket-io-module-options.interface.js';

/** How long a shutdown waits for handlers in flight before it disconnects their clients. */
const SHUTDOWN_GRACE = 3000;
type Handler = MessageMappingProperties & { isAckHandledManually?: boolean };

/** What the module hands the adapter. */
export interface SocketIOAdapterDeps {
  options: SocketIOModuleOptions;
  httpAdapterHost: HttpAdapterHost;
  moduleRef: ModuleRef;
  storage: SocketContextStorage;
  gateways: GatewayRegistry;
  logger: LoggerService;
  parser?: ServerOptions['parser'];
  queue?: MessageQueue;
  /** Diagnostics channels, OpenTelemetry, admin UI: told about every decision. */
  observability: SocketObservability;
  /** The application's SocketContext, handed to error handlers. */
  socketContext: () => SocketContext;
}

/**
 * The gateway adapter: builds every gateway's Socket.IO server from the module options, admits
 * clients (guards, `handleConnection`) before they are accepted, and dispatches events to
 * handlers with no per-event rxjs pipeline. One per application.
 */
export class SocketIOAdapter extends AbstractWsAdapter<any, any> {
  readonly logger: LoggerService;
  readonly path: string;
  private readonly servers = new Map<string, Server>();
  private readonly ownServers = new Set<Server>();
  private readonly closed = new WeakSet<Server>();
  private readonly prepared = new WeakSet<Namespace>();
  private readonly handledEvents = new WeakMap<Namespace, Set<string>>();
  private readonly gatewaysOf = new WeakMap<Namespace, GatewayEntry[]>();
  private readonly silenced = new WeakSet<Socket>();
  private readonly errors: SocketErrors;
  private readonly admission: ConnectionAdmission;
  private readonly dispatcher: EventDispatcher;
  private remoteClients?: RemoteClients;
  private disposed = false;
  /** Undefined unless the `rateLimit` option is set. */
  private readonly rateLimit?: RateLimit;
  /** Direct calls for handlers that have no guards, interceptors, pipes or filters of their own. */
  private readonly fast: FastHandlers;

  constructor(private readonly deps: SocketIOAdapterDeps) {
    super();
    this.logger = deps.logger;
    this.path = deps.options.path ?? DEFAULT_PATH;
    this.errors = new SocketErrors(
      deps.logger,
      deps.options.defaultErrorHandler,
      deps.socketContext,
      (socket) => this.gatewaysFor(socket.nsp).find((g) => g.errorHandler)?.errorHandler,
      deps.observability,
    );
    deps.observability.useHandledEvents((nsp) => this.handledEvents.get(nsp));
    this.admission = new ConnectionAdmission({
      options: deps.options,
      moduleRef: deps.moduleRef,
      errors: this.errors,
      logger: deps.logger,
      storage: deps.storage,
      observability: deps.observability,
    });
    const { rateLimit, handlerTimeout } = deps.options;
    if (rateLimit) this.rateLimit = new RateLimit(rateLimit, this.errors);
    const timeLimit = handlerTimeout ? new HandlerTimeout(handlerTimeout) : undefined;
    this.dispatcher = new EventDispatcher(deps.storage, this.errors, timeLimit, deps.observability);
    this.fast = new FastHandlers(deps.moduleRef, () => deps.gateways.allStatic);
  }

  /** The server on the module's path, once created (undefined in emitter-only mode). */
  get server(): Server | undefined {
    return this.servers.get(`0:${this.path}`);
  }

  /** True when processes share clients through a message queue or a custom adapter. */
  get hasMessageQueue(): boolean {
    return this.deps.queue !== undefined || this.deps.options.adapter !== undefined;
  }

  /** The validated module options. */
  get options(): SocketIOModuleOptions {
    return this.deps.options;
  }

  /** Diagnostics channels, OpenTelemetry and the admin UI of this application. */
  get observability(): SocketObservability {
    return this.deps.observability;
  }

  /** Every server this adapter created (the module's, and gateways' on other ports or paths). */
  get allServers(): Server[] {
    return [...this.servers.values()];
  }

  /** False once the servers were closed (shutdown, `SocketService.stop()`). */
  isServing(server: Server): boolean {
    return !this.closed.has(server) && !this.disposed;
  }

  /** Checks the message queue's connection; throws with the reason when it is unreachable. */
  async probeQueue(): Promise<void> {
    await this.deps.queue?.probe?.();
  }

  /** Helpers for clients that another process serves. */
  get remote(): RemoteClients {
    if (this.remoteClients) return this.remoteClients;
    const remote = this.deps.queue?.remoteClients(this.server) ?? new LocalOnlyClients();
    // Kept only once bound to the server (or when there will never be one).
    if (this.server || this.deps.options.emitterOnly) this.remoteClients = remote;
    return remote;
  }

  /** An existing namespace of the main server; never creates one (that would open it to clients). */
  namespace(name: string): Namespace | undefined {
    return this.server?._nsps.get(name);
  }

  /** The broadcast operator of a namespace: the server's, or the emitter's in emitter-only mode. */
  operator(name: string): unknown {
    const emitter = this.deps.queue?.emitter;
    if (this.deps.options.emitterOnly && emitter) return emitter(name);
    const nsp = this.namespace(name);
    if (nsp) return nsp;
    if (!this.server) throw new Error('No Socket.IO server: is the application initialised?');
    // A namespace without a gateway has no clients to reach, and must not be opened by an emit.
    return emptyOperator;
  }

  /**
   * Sends `emit` to a client being admitted once it is accepted (never if it is refused): the
   * broadcasts made by guards and `handleConnection` miss it otherwise (see SocketService.emit).
   */
  afterAdmission(socket: Socket, emit: () => void): void {
    this.admission.whenAccepted(socket, emit);
  }

  /** Skip the server's disconnect handlers for this socket (`disconnect({ silent: true })`). */
  silence(socket: Socket): void {
    this.silenced.add(socket);
  }

  /** Creates the main server when no gateway did (so `SocketService` always works). */
  ensureServer(): void {
    if (this.deps.options.emitterOnly || this.server || this.disposed) return;
    if (!this.deps.httpAdapterHost.httpAdapter) return;
    this.ownServers.add(this.createServer(0, {}));
  }

  override create(port: number, options: Record<string, any> = {}): Server | Namespace {
    const { namespace, server, ...gatewayOptions } = options;
    if (server && namespace) {
      return this.prepareNamespace(server.of(namespace), port, gatewayOptions.path, namespace);
    }
    const root = this.createServer(port, gatewayOptions);
    return namespace
      ? this.prepareNamespace(root.of(namespace), port, gatewayOptions.path, namespace)
      : root;
  }

  override bindClientConnect(nsp: Namespace, callback: (socket: Socket) => void): void {
    if (!this.deps.options.alwaysConnect) {
      nsp.on('connection', (socket: Socket) =>
        this.deps.storage.run(new SocketCallFrame(socket), () => callback(socket)),
      );
      return;
    }
    nsp.on('connection', (socket: Socket) => {
      // Before Nest binds the handlers: events that arrive early wait for the decision.
      this.admission.afterAccept(socket, this.gatewaysFor(socket.nsp), (s) => this.silence(s));
      this.deps.storage.run(new SocketCallFrame(socket), () => callback(socket));
    });
  }

  override bindClientDisconnect(socket: Socket, callback: (reason: string) => void): void {
    // socket.io empties the rooms before 'disconnect'; handleDisconnect still sees them (as Flask).
    socket.once('disconnecting', () => {
      const frame = new SocketCallFrame(socket);
      frame.roomsAtDisconnect = [...socket.rooms];
      socket.once('disconnect', (reason) => {
        if (this.silenced.has(socket)) return;
        this.deps.storage.run(frame, () => callback(reason));
      });
    });
  }

  override bindMessageHandlers(
    socket: Socket,
    handlers: Handler[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    const handled = this.handledSet(socket.nsp);
    const admitting = this.admission.decision(socket);
    const dispatcher = this.dispatcher;
    const gateways = this.gatewaysFor(socket.nsp);
    for (const { message, callback, isAckHandledManually } of handlers) {
      const manual = isAckHandledManually === true;
      const fast = this.fast.get(gateways, message);
      // With a direct handler, Nest's bound callback is not kept: one object less per connection.
      const nest = fast ? undefined : callback;
      if (message === '*') {
        socket.onAny((event: string, ...args: unknown[]) => {
          if (handled.has(event)) return;
          if (admitting) {
            void admitting.then(
              (ok) => ok && dispatcher.dispatch(socket, event, nest, fast, args, manual),
            );
          } else dispatcher.dispatch(socket, event, nest, fast, args, manual);
        });
        continue;
      }
      handled.add(message);
      socket.on(message, (...args: unknown[]) => {
        if (admitting) {
          void admitting.then(
            (ok) => ok && dispatcher.dispatch(socket, message, nest, fast, args, manual),
          );
        } else dispatcher.dispatch(socket, message, nest, fast, args, manual);
      });
    }
  }

  override async close(server: Server | Namespace): Promise<void> {
    if (server instanceof Server) await this.closeServer(server);
  }

  override async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all([...this.servers.values()].map((s) => this.closeServer(s)));
    await this.deps.queue?.close();
  }

  /** Disconnects every client and closes every server (`SocketService.stop()`). */
  async stopServing(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => this.closeServer(s)));
  }

  private createServer(port: number, gatewayOptions: Record<string, any>): Server {
    const path: string = gatewayOptions.path ?? this.path;
    const key = `${port}:${path}`;
    const existing = this.servers.get(key);
    if (existing) return existing;
    const options = this.deps.observability.serverOptions(
      buildServerOptions(this.deps.options, this.deps.parser, path, gatewayOptions),
    );
    const httpServer =
      port === 0 ? this.deps.httpAdapterHost.httpAdapter?.getHttpServer() : undefined;
    if (port === 0 && !httpServer) {
      throw new Error(
        'SocketIOModule needs an HTTP application (NestFactory.create) to attach to; use emitterOnly: true in a worker',
      );
    }
    const server = httpServer ? new Server(httpServer, options) : new Server(port, options);
    const adapter = this.deps.options.adapter ?? this.deps.queue?.adapter;
    if (adapter) server.adapter(adapter as ServerOptions['adapter']);
    setErrorResponder(server, this.errors);
    this.deps.observability.serverCreated(server);
    this.servers.set(key, server);
    this.prepareNamespace(server.of('/'), port, path, '/');
    return server;
  }

  private prepareNamespace(
    nsp: Namespace,
    port: number,
    path: string | undefined,
    namespace: unknown,
  ): Namespace {
    if (this.prepared.has(nsp)) return nsp;
    this.prepared.add(nsp);
    const gateways = this.deps.gateways.find(port, path ?? this.path, this.path, namespace);
    this.gatewaysOf.set(nsp, gateways);
    this.rateLimit?.install(nsp);
    if (!this.deps.options.alwaysConnect) {
      nsp.use((socket, next) => {
        // Children of a dynamic namespace share their parent's gateways.
        if (socket.nsp !== nsp && !this.gatewaysOf.has(socket.nsp)) {
          this.gatewaysOf.set(socket.nsp, gateways);
        }
        this.admission.beforeAccept(socket, gateways, next);
      });
    }
    return nsp;
  }

  private gatewaysFor(nsp: Namespace): GatewayEntry[] {
    return this.gatewaysOf.get(nsp) ?? [];
  }

  private handledSet(nsp: Namespace): Set<string> {
    let set = this.handledEvents.get(nsp);
    if (!set) this.handledEvents.set(nsp, (set = new Set()));
    return set;
  }

  private async closeServer(server: Server): Promise<void> {
    if (this.closed.has(server)) return;
    this.closed.add(server);
    // Graceful: refuse new clients first, let the handlers in flight answer, then disconnect.
    if (server.engine) {
      server.engine.opts.allowRequest = (_req, refuse) => refuse('Server shutting down', false);
    }
    await this.dispatcher.handlersDone(SHUTDOWN_GRACE);
    // As socket.io's own close(), except that Nest's HTTP server is left for Nest to close.
    // Clients see their transport close and reconnect (to another instance, when there is one).
    await Promise.allSettled(
      [...server._nsps.values()].map(async (nsp) => {
        for (const socket of nsp.sockets.values()) {
          (socket as unknown as { _onclose(reason: string): void })._onclose(
            'server shutting down',
          );
        }
        await nsp.adapter.close();
      }),
    );
    server.engine?.close();
    const standalone =
      server.httpServer &&
      server.httpServer !== this.deps.httpAdapterHost.httpAdapter?.getHttpServer();
    if (standalone) await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}

const noop = () => emptyOperator;
/** The operator of a namespace that does not exist here: it has no clients to reach. */
const emptyOperator = {
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

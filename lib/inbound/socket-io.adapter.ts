import { Inject, Injectable } from '@nestjs/common';
import { AbstractWsAdapter, type MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import { Server, type Namespace, type Socket } from 'socket.io';
import { SocketCallFrame, SocketContextStorage } from '../context/socket-context.storage.js';
import { setErrorResponder } from '../errors/socket-exception.filter.js';
import { SocketErrors } from '../errors/socket-errors.js';
import { ConnectionAdmission } from '../guards/connection-admission.js';
import { NamespaceAdmissionLimit } from '../guards/namespace-admission-limit.js';
import { DEFAULT_MAX_BUFFERED_BYTES, limitBufferedOutput } from '../guards/output-buffer-limit.js';
import { RateLimit } from '../guards/rate-limit.js';
import { SocketServers } from '../outbound/socket-servers.js';
import { SocketIOConfig } from '../socket-io.config.js';
import { DirectHandlers, type DirectHandler } from './direct-handlers.js';
import { EventDispatcher } from './event-dispatcher.js';
import { GatewayRegistry } from './gateway-registry.js';
import { SocketObservability } from '../observability/socket-observability.js';

/** How long a shutdown waits for handlers in flight before it disconnects their clients. */
const DEFAULT_SHUTDOWN_GRACE = 3000;

/**
 * The gateway adapter, inbound only: it has `SocketServers` create each gateway's server,
 * admits clients (guards, `handleConnection`) before they are accepted, and hands their events
 * to the dispatcher. Everything that goes out (emits, rooms, shutdown) is `SocketServers`' job.
 * One per application.
 */
@Injectable()
export class SocketIOAdapter extends AbstractWsAdapter {
  private readonly prepared = new WeakSet<Namespace>();
  private readonly handledEvents = new WeakMap<Namespace, Set<string>>();
  private readonly listeners = new WeakMap<
    Namespace,
    Map<string, (this: Socket, ...args: unknown[]) => void>
  >();

  constructor(
    @Inject(SocketIOConfig) private readonly config: SocketIOConfig,
    @Inject(SocketServers) private readonly servers: SocketServers,
    @Inject(GatewayRegistry) private readonly gateways: GatewayRegistry,
    @Inject(SocketErrors) private readonly errors: SocketErrors,
    @Inject(ConnectionAdmission) private readonly admission: ConnectionAdmission,
    @Inject(NamespaceAdmissionLimit) private readonly admissionLimit: NamespaceAdmissionLimit,
    @Inject(RateLimit) private readonly rateLimit: RateLimit,
    @Inject(EventDispatcher) private readonly dispatcher: EventDispatcher,
    @Inject(DirectHandlers) private readonly direct: DirectHandlers,
    @Inject(SocketContextStorage) private readonly storage: SocketContextStorage,
    @Inject(SocketObservability) observability: SocketObservability,
  ) {
    super();
    // Metrics keep the names of events with a handler of their own; catch-all ones are capped.
    observability.useHandledEvents((nsp) => this.handledEvents.get(nsp));
    const { shutdownGrace } = config.options;
    servers.onClose(() => dispatcher.handlersDone(shutdownGrace ?? DEFAULT_SHUTDOWN_GRACE));
  }

  /** The Socket.IO path of the module's server. */
  get path(): string {
    return this.config.path;
  }

  /** Creates the main server when no gateway did (so `SocketService` always works). */
  ensureServer(): void {
    if (this.config.options.emitterOnly || this.servers.server || this.servers.closing) return;
    this.create(0, {});
  }

  /**
   * The server of a gateway. For a gateway with a namespace Nest keeps the namespace as its
   * "server" (as with its own IoAdapter), and hands it back to `bindClientConnect` and `close`.
   */
  override create(port: number, options: Record<string, unknown> = {}): Server {
    const { namespace, server, ...gatewayOptions } = options;
    const path = (gatewayOptions.path as string | undefined) ?? this.config.path;
    const root = (server as Server | undefined) ?? this.servers.open(port, gatewayOptions);
    if (!this.prepared.has(root.of('/'))) {
      setErrorResponder(root, this.errors);
      const { maxBufferedBytes } = this.config.options;
      limitBufferedOutput(root, maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
      this.prepare(root.of('/'), port, path, '/');
    }
    if (!namespace) return root;
    return this.prepare(root.of(namespace as string), port, path, namespace) as unknown as Server;
  }

  override bindClientConnect(nsp: Namespace, callback: (socket: Socket) => void): void {
    // Nest has read the gateways' connection hooks by now (see GatewayRegistry).
    if (!this.config.options.alwaysConnect) {
      nsp.on('connection', (socket: Socket) =>
        this.storage.run(new SocketCallFrame(socket), () => callback(socket)),
      );
      return;
    }
    nsp.on('connection', (socket: Socket) => {
      // Before Nest binds the handlers: events that arrive early wait for the decision.
      this.admission.afterAccept(socket, this.gateways.of(socket.nsp), (s) =>
        this.servers.silence(s),
      );
      this.storage.run(new SocketCallFrame(socket), () => callback(socket));
    });
  }

  override bindClientDisconnect(socket: Socket, callback: (reason: string) => void): void {
    // socket.io empties the rooms before 'disconnect'; handleDisconnect still sees them (as Flask).
    socket.once('disconnecting', () => {
      const frame = new SocketCallFrame(socket);
      frame.roomsAtDisconnect = [...socket.rooms];
      socket.once('disconnect', (reason) => {
        if (this.servers.isSilenced(socket)) return;
        this.storage.run(frame, () => callback(reason));
      });
    });
  }

  override bindMessageHandlers(
    socket: Socket,
    handlers: (MessageMappingProperties & { isAckHandledManually?: boolean })[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {
    const handled = this.handledSet(socket.nsp);
    const admitting = this.admission.decision(socket);
    const dispatcher = this.dispatcher;
    const gateways = this.gateways.of(socket.nsp);
    for (const { message, callback, isAckHandledManually } of handlers) {
      const manual = isAckHandledManually === true;
      const direct = this.direct.get(gateways, message);
      if (direct && !admitting && message !== '*') {
        // One listener per namespace and event, shared by every client (socket.io calls it with
        // the client as `this`): no closure per connection and handler.
        handled.add(message);
        socket.on(message, this.sharedListener(socket.nsp, message, direct, manual));
        continue;
      }
      // With a direct handler, Nest's bound callback is not kept: one object less per connection.
      const nest = direct ? undefined : callback;
      const dispatch = (event: string, args: unknown[]) => {
        if (!admitting) return dispatcher.dispatch(socket, event, nest, direct, args, manual);
        void admitting.then(
          (ok) => ok && dispatcher.dispatch(socket, event, nest, direct, args, manual),
        );
      };
      if (message === '*') {
        socket.onAny((event: string, ...args: unknown[]) => {
          if (!handled.has(event)) dispatch(event, args);
        });
        continue;
      }
      handled.add(message);
      // An admitted client's events go straight to the dispatcher: one call less per event.
      socket.on(
        message,
        admitting
          ? (...args: unknown[]) => dispatch(message, args)
          : (...args: unknown[]) =>
              dispatcher.dispatch(socket, message, nest, direct, args, manual),
      );
    }
  }

  override async close(server: Server | Namespace): Promise<void> {
    if (server instanceof Server) await this.servers.close(server);
  }

  override async dispose(): Promise<void> {
    await this.servers.dispose();
  }

  private prepare(nsp: Namespace, port: number, path: string, namespace: unknown): Namespace {
    if (this.prepared.has(nsp)) return nsp;
    this.prepared.add(nsp);
    const gateways = this.gateways.find(port, path, namespace);
    this.gateways.serve(nsp, gateways);
    this.rateLimit.install(nsp);
    const alwaysConnect = this.config.options.alwaysConnect;
    nsp.use((socket, next) => {
      // Children of a dynamic namespace share their parent's gateways.
      if (socket.nsp !== nsp) this.gateways.serve(socket.nsp, gateways);
      this.admissionLimit.enter(socket, next, (done) =>
        alwaysConnect ? done() : this.admission.beforeAccept(socket, gateways, done),
      );
    });
    return nsp;
  }

  /** The listener of a directly dispatched event, made once per namespace and event. */
  private sharedListener(
    nsp: Namespace,
    message: string,
    direct: DirectHandler,
    manual: boolean,
  ): (this: Socket, ...args: unknown[]) => void {
    let listeners = this.listeners.get(nsp);
    if (!listeners) this.listeners.set(nsp, (listeners = new Map()));
    let listener = listeners.get(message);
    if (!listener) {
      const dispatcher = this.dispatcher;
      listener = function (this: Socket, ...args: unknown[]) {
        dispatcher.dispatch(this, message, undefined, direct, args, manual);
      };
      listeners.set(message, listener);
    }
    return listener;
  }

  private handledSet(nsp: Namespace): Set<string> {
    let set = this.handledEvents.get(nsp);
    if (!set) this.handledEvents.set(nsp, (set = new Set()));
    return set;
  }
}

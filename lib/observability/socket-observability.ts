import type { LoggerService } from '@nestjs/common';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { namespacesOf } from '../internals/socket-io.internals.js';
import type { SocketCallFrame, SocketContextStorage } from '../context/socket-context.storage.js';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import { AdminUi } from './admin-ui.js';
import {
  BoundedNames,
  MAX_CATCH_ALL_EVENTS,
  MAX_NAMESPACES,
  MAX_REASONS,
} from './bounded-names.js';
import {
  connectionChannel,
  errorChannel,
  eventChannel,
  queueChannel,
  type SocketConnectionMessage,
  type SocketErrorMessage,
  type SocketQueueMessage,
} from './diagnostics.js';
import { EventObservation } from './event-observation.js';
import { loadOtelApi, OtelRecorder, type LoadedOtelApi, type TraceParent } from './otel.js';

/** Who connected to which message queue, and since when it is unreachable (with the reason). */
interface QueueProblem {
  queue: string;
  reason: string;
}

/**
 * The module's one observability provider: every place that decides something a team running
 * the app wants to see (a connection accepted or refused, an event handled, an error reply, a
 * message queue lost) makes one call here, and this publishes it on `diagnostics_channel`,
 * records OpenTelemetry metrics and spans, and logs refusals. When no one subscribes and no SDK
 * is registered, each call returns after a property check or two.
 */
export class SocketObservability {
  private otel?: OtelRecorder;
  private otelDecided = false;
  /** The trace context each client sent in its handshake (only while tracing). */
  private readonly parents = new WeakMap<Socket, TraceParent>();
  private readonly namespaces = new BoundedNames(MAX_NAMESPACES, '(other)');
  private readonly catchAllNames = new Map<string, BoundedNames>();
  private readonly reasons = new Map<string, BoundedNames>();
  private readonly queueProblems = new Map<string, QueueProblem>();
  private handledEvents: (nsp: Namespace) => Set<string> | undefined = () => undefined;
  private readonly adminUi?: AdminUi;

  private constructor(
    private readonly logger: LoggerService,
    private readonly storage: SocketContextStorage,
    private readonly api: LoadedOtelApi | undefined,
    private readonly version: string | undefined,
    options: SocketIOModuleOptions,
  ) {
    if (options.adminUi) this.adminUi = new AdminUi(options.adminUi);
  }

  /** Loads `@opentelemetry/api` when it is installed; builds nothing else yet. */
  static async create(
    options: SocketIOModuleOptions,
    logger: LoggerService,
    storage: SocketContextStorage,
    version?: string,
  ): Promise<SocketObservability> {
    const api = await loadOtelApi();
    const observability = new SocketObservability(logger, storage, api, version, options);
    await observability.adminUi?.load();
    return observability;
  }

  /** The adapter tells which events have a handler of their own (the others reach a catch-all). */
  useHandledEvents(lookup: (nsp: Namespace) => Set<string> | undefined): void {
    this.handledEvents = lookup;
  }

  // ---- servers ----

  /** The socket.io options of a new server, with the admin UI's origin let in when it is on. */
  serverOptions(options: Partial<ServerOptions>): Partial<ServerOptions> {
    return this.adminUi ? this.adminUi.serverOptions(options) : options;
  }

  /**
   * A server was created: engine-level refusals are reported, every namespace's connections are
   * counted (the admin UI's and those without a gateway too), the admin UI is installed.
   */
  serverCreated(server: Server): void {
    const watch = (nsp: Namespace): void => {
      nsp.on('connection', (socket: Socket) => this.connected(socket));
    };
    for (const nsp of namespacesOf(server)) watch(nsp);
    server.sockets.on('new_namespace' as never, watch);
    this.adminUi?.install(server);
    server.engine?.on('connection_error', (err: { message?: string; context?: unknown }) =>
      this.engineRefused(err),
    );
  }

  // ---- connections ----

  /** The admission decided to accept a client (it connects right after). */
  accepted(socket: Socket): void {
    if (!connectionChannel.hasSubscribers) return;
    const accepted: SocketConnectionMessage = {
      type: 'accepted',
      namespace: socket.nsp.name,
      sid: socket.id,
      socket,
    };
    connectionChannel.publish(accepted);
  }

  /** A client is connected (socket.io emits `disconnect` only for these, so counts stay exact). */
  private connected(socket: Socket): void {
    if (!this.otelDecided) this.decideOtel();
    const otel = this.otel;
    if (otel) {
      const namespace = this.namespaces.label(socket.nsp.name);
      otel.connected(namespace, 1);
      socket.once('disconnect', () => otel.connected(namespace, -1));
      if (otel.tracing) {
        const parent = otel.parentOf(socket.handshake.auth, socket.handshake.headers);
        if (parent) this.parents.set(socket, parent);
      }
    }
    if (connectionChannel.hasSubscribers) {
      socket.once('disconnect', (reason: string) => {
        if (!connectionChannel.hasSubscribers) return;
        const gone: SocketConnectionMessage = {
          type: 'disconnected',
          namespace: socket.nsp.name,
          sid: socket.id,
          reason,
          socket,
        };
        connectionChannel.publish(gone);
      });
    }
  }

  /** A client was refused (`connect_error`), by a guard, `handleConnection` or a middleware. */
  refused(socket: Socket, refusal: unknown): void {
    const reason = refusal instanceof Error ? refusal.message : String(refusal);
    const namespace = socket.nsp.name;
    this.logger.debug?.(`Connection to namespace ${namespace} refused: ${reason}`);
    if (!this.otelDecided) this.decideOtel();
    const label = this.namespaces.label(namespace);
    this.otel?.refusedConnection(label, this.reasonLabel(label, reason));
    if (connectionChannel.hasSubscribers) {
      const message: SocketConnectionMessage = {
        type: 'refused',
        namespace,
        sid: socket.id,
        reason,
        socket,
      };
      connectionChannel.publish(message);
    }
  }

  private engineRefused(err: { message?: string; context?: unknown }): void {
    const detail = (err.context as { message?: string } | undefined)?.message;
    const reason = detail ? `${err.message}: ${detail}` : String(err.message);
    this.logger.debug?.(`Connection refused before any namespace: ${reason}`);
    if (!this.otelDecided) this.decideOtel();
    this.otel?.refusedConnection('(engine)', this.reasonLabel('(engine)', reason));
    if (connectionChannel.hasSubscribers) {
      const message: SocketConnectionMessage = { type: 'refused', reason };
      connectionChannel.publish(message);
    }
  }

  // ---- events ----

  /** An event is about to be handled; undefined (the common case) when no one is listening. */
  event(socket: Socket, event: string, args: unknown[], frame: SocketCallFrame) {
    if (!this.otelDecided) this.decideOtel();
    const otel = this.otel;
    const traced = eventChannel.hasSubscribers;
    if (!otel && !traced) return undefined;
    const namespace = this.namespaces.label(socket.nsp.name);
    const label = this.eventLabel(socket.nsp, namespace, event);
    const observation = new EventObservation(
      traced ? EventObservation.messageFor(socket, event, args) : undefined,
      otel,
      otel?.startEvent(namespace, label, this.parents.get(socket)),
    );
    frame.observation = observation;
    return observation;
  }

  /**
   * An error reply was sent to a client (any status). 429 is logged at debug and 504 at warn,
   * with the namespace and event; everything is published on `nest-socketio:error`.
   */
  errorReplied(
    socket: Socket,
    status: number,
    message: string | string[],
    error: unknown,
    event?: string,
  ): void {
    const frame = this.storage.current;
    const name = event ?? frame?.eventName;
    const limit = (error as { limit?: 'rate' | 'time' } | undefined)?.limit;
    frame?.observation?.mark(status, error);
    if (status === 429) {
      this.logger.debug?.(
        `Rate limit: event "${name}" of client ${socket.id} in namespace ${socket.nsp.name} refused (429)`,
      );
    } else if (status === 504) {
      const after = (error as { ms?: number } | undefined)?.ms;
      this.logger.warn(
        `Handler timeout: event "${name}" in namespace ${socket.nsp.name} did not answer${after ? ` within ${after} ms` : ''}; the client got 504`,
      );
    }
    if (limit === 'rate' && name !== undefined) {
      if (!this.otelDecided) this.decideOtel();
      const namespace = this.namespaces.label(socket.nsp.name);
      this.otel?.refusedEvent(namespace, this.eventLabel(socket.nsp, namespace, name));
    }
    if (!errorChannel.hasSubscribers) return;
    const published: SocketErrorMessage = {
      namespace: socket.nsp.name,
      event: name,
      sid: socket.id,
      status,
      message,
      limit,
      error,
    };
    errorChannel.publish(published);
  }

  // ---- message queue ----

  /** The message queue lost (`down`) or regained (`up`) one of its connections. */
  queueState(state: 'down' | 'up', queue: string, role: string, reason?: string): void {
    const key = `${queue} (${role})`;
    if (state === 'down') this.queueProblems.set(key, { queue, reason: reason ?? 'unreachable' });
    else this.queueProblems.delete(key);
    if (!queueChannel.hasSubscribers) return;
    const message: SocketQueueMessage = { state, queue, role, reason };
    queueChannel.publish(message);
  }

  /** Why the message queue is unreachable right now, or undefined while it is up. */
  get queueProblem(): string | undefined {
    const [first] = this.queueProblems.entries();
    return first ? `${first[0]}: ${first[1].reason}` : undefined;
  }

  // ---- labels ----

  /** Events with a handler of their own keep their name; catch-all ones are capped per namespace. */
  private eventLabel(nsp: Namespace, namespace: string, event: string): string {
    if (this.handledEvents(nsp)?.has(event)) return event;
    let names = this.catchAllNames.get(namespace);
    if (!names) {
      this.catchAllNames.set(namespace, (names = new BoundedNames(MAX_CATCH_ALL_EVENTS, '*')));
    }
    return names.label(event);
  }

  private reasonLabel(namespace: string, reason: string): string {
    let names = this.reasons.get(namespace);
    if (!names) this.reasons.set(namespace, (names = new BoundedNames(MAX_REASONS, '(other)')));
    return names.label(reason);
  }

  /** Decided once, at the first client: the SDK is registered by then in any real setup. */
  private decideOtel(): void {
    this.otelDecided = true;
    if (this.api) this.otel = OtelRecorder.create(this.api, this.version);
  }
}

import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import type { Socket } from 'socket.io';
import { SocketIOConfig } from '../socket-io.config.js';
import { SocketServers } from '../outbound/socket-servers.js';
import { SocketContextStorage } from '../context/socket-context.storage.js';
import { UnknownClientError } from '../errors/unknown-client.error.js';
import type { SidOptions } from '../interfaces/socket-service.interface.js';
import { TrackedClients } from './presence-clients.js';
import { PresenceDelivery } from './presence-delivery.js';
import { PresenceCluster } from './presence-cluster.js';
import { resolvePresenceOptions, type ResolvedPresenceOptions } from './presence-options.js';
import type { PresenceTransport } from './presence-protocol.js';
import { PresenceRelay, type PresenceOperation } from './presence-relay.js';
import { namespaceTransport, workerTransport } from './presence-transport.js';
import type { PresenceState } from './presence.types.js';

/**
 * Who is online, cluster-wide (Phoenix.Presence for Socket.IO): tracks clients under a key in a
 * topic with metadata, sends `presence_state` to each newly tracked client and `presence_diff`
 * to the topic's room on every change, and drops the presences of clients that disconnect and
 * of processes that die.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly settings: ResolvedPresenceOptions;
  private cluster: PresenceCluster;
  private transport?: PresenceTransport;
  private relay?: PresenceRelay;
  private worker?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly clients: TrackedClients;
  private readonly delivery: PresenceDelivery;
  private pending?: Promise<void>;

  constructor(
    @Inject(SocketServers) private readonly servers: SocketServers,
    @Inject(SocketContextStorage) private readonly storage: SocketContextStorage,
    @Inject(SocketIOConfig) private readonly config: SocketIOConfig,
  ) {
    this.settings = resolvePresenceOptions(config.options.presence);
    this.delivery = new PresenceDelivery(servers);
    this.cluster = new PresenceCluster(this.settings, undefined);
    this.clients = new TrackedClients(this.settings.heartbeatInterval, (sid, pairs) => {
      for (let i = 0; i < pairs.length; i += 2) this.cluster.remove(pairs[i], pairs[i + 1], sid);
      void this.deliver();
    });
  }

  /**
   * Tracks a client under `key` in `topic` (the current client, or `options.sid`), joins it to
   * the topic's room and sends it `presence_state`; the room gets a `presence_diff`.
   * @example await presence.track('lobby', user.id, { name: user.name });
   */
  async track(
    topic: string,
    key: string,
    meta: Record<string, unknown> = {},
    options: SidOptions = {},
  ): Promise<void> {
    check(topic, key, meta);
    const socket = this.localSocket(options);
    if (!socket) return this.forward({ op: 'track', topic, key, meta }, options);
    const sid = socket.id;
    // A client that comes back under its key replaces its departing presence in the same diff.
    for (const old of this.cluster.own.metas(topic, key).slice()) {
      if (old.sid !== sid && this.clients.isDeparting(old.sid)) this.removeOwn(old.sid, topic, key);
    }
    const previous = this.cluster.own.get(topic, key, sid);
    const onlineAt = previous?.onlineAt ?? Date.now();
    this.cluster.put(topic, key, { ...meta, sid, onlineAt });
    if (!previous) this.clients.add(socket, topic, key);
    await socket.join(topic);
    this.delivery.newcomer(topic, socket);
    await this.deliver();
  }

  /**
   * Replaces the metadata of a tracked client's presence; the room gets a leave and a join.
   * @example await presence.update('lobby', user.id, { status: 'away' });
   */
  async update(
    topic: string,
    key: string,
    meta: Record<string, unknown>,
    options: SidOptions = {},
  ): Promise<void> {
    check(topic, key, meta);
    const socket = this.localSocket(options);
    if (!socket) return this.forward({ op: 'update', topic, key, meta }, options);
    const previous = this.cluster.own.get(topic, key, socket.id);
    if (!previous) {
      throw new Error(
        `PresenceService.update(): client "${socket.id}" is not tracked under "${key}" in "${topic}"`,
      );
    }
    this.cluster.put(topic, key, { ...meta, sid: socket.id, onlineAt: previous.onlineAt });
    await this.deliver();
  }

  /**
   * Ends a client's presence under `key` in `topic` (every key when omitted); it stays in the room.
   * @example await presence.untrack('lobby');
   */
  async untrack(topic: string, key?: string, options: SidOptions = {}): Promise<void> {
    check(topic, key ?? '-', {});
    const sid = options.sid ?? this.storage.current?.socket.id;
    if (!sid) throw new Error(noClient('untrack'));
    if (!this.clients.has(sid) && !this.localSocket(options)) {
      return this.forward({ op: 'untrack', topic, key }, options);
    }
    const pairs = this.clients.of(sid);
    for (let i = pairs.length - 2; i >= 0; i -= 2) {
      if (pairs[i] === topic && (key === undefined || pairs[i + 1] === key)) {
        this.removeOwn(sid, topic, pairs[i + 1]);
      }
    }
    await this.deliver();
  }

  /**
   * The whole cluster's presences in a topic.
   * @example const online = Object.keys(await presence.list('lobby'));
   */
  async list(topic: string): Promise<PresenceState> {
    check(topic, '-', {});
    if (this.config.options.emitterOnly) await (this.worker ??= this.startWorker());
    await this.settled();
    return this.cluster.list(topic);
  }

  /** @internal Nest lifecycle: the server exists now; hear the other processes. */
  onApplicationBootstrap(): void {
    const server = this.servers.server;
    if (this.config.options.emitterOnly || !server) return;
    if (this.servers.hasMessageQueue) {
      this.start(namespaceTransport(server.of('/'), (m) => this.receive(m), this.config.logger));
      this.relay = new PresenceRelay(server.of('/'), (op, socket) => this.perform(op, socket));
    } else this.start(undefined);
  }

  /** @internal Nest lifecycle: tell the others before the queue closes. */
  async onModuleDestroy(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.clients.stop();
    this.relay?.close();
    this.cluster.leave();
    await this.worker?.catch(() => undefined);
    await this.transport?.close();
  }

  private start(transport: PresenceTransport | undefined, readOnly = false): void {
    this.transport = transport;
    this.cluster = new PresenceCluster(this.settings, transport, readOnly);
    this.cluster.start();
    this.timer = setInterval(() => {
      this.cluster.tick();
      if (this.cluster.dirty) void this.deliver();
    }, this.settings.heartbeatInterval);
    this.timer.unref();
  }

  private async startWorker(): Promise<void> {
    const transport = await workerTransport(
      this.config.options,
      (m) => this.receive(m),
      this.config.logger,
    );
    if (this.stopped) return transport.close();
    this.start(transport, true);
  }

  private receive(message: Parameters<PresenceCluster['receive']>[0]): void {
    if (this.stopped) return;
    this.cluster.receive(message);
    if (this.cluster.dirty) void this.deliver();
  }

  /** Resolves once this process has heard every live one (at most `timeout` after it started). */
  private async settled(): Promise<void> {
    const deadline = Date.now() + this.settings.timeout;
    while (!this.cluster.settled && Date.now() < deadline) await delay(20);
  }

  /**
   * Sends the pending changes (to the other processes, one delta) and their diffs (to the local
   * clients of each topic's room), then the state to each newly tracked client. Batched per turn
   * of the event loop, so a burst of changes makes one delta and one diff per topic.
   */
  private deliver(): Promise<void> {
    return (this.pending ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.pending = undefined;
        try {
          this.delivery.deliver(this.cluster.flush(), (topic) => this.cluster.list(topic));
        } finally {
          resolve();
        }
      }),
    ));
  }

  private removeOwn(sid: string, topic: string, key: string): void {
    this.cluster.remove(topic, key, sid);
    this.clients.delete(sid, topic, key);
  }

  /** The client an operation is for, when this process serves it. */
  private localSocket(options: SidOptions): Socket | undefined {
    const current = this.storage.current?.socket;
    const sid = options.sid ?? current?.id;
    if (!sid) throw new Error(noClient('track'));
    const namespace = options.namespace ?? current?.nsp.name ?? '/';
    if (current && current.id === sid && current.nsp.name === namespace) return current;
    const socket = this.servers.namespace(namespace)?.sockets.get(sid);
    return socket?.connected ? socket : undefined;
  }

  /** Runs an operation on the process that serves the client. */
  private async forward(operation: PresenceOperation, options: SidOptions): Promise<void> {
    const sid = options.sid ?? this.storage.current?.socket.id ?? '';
    const namespace = options.namespace ?? this.storage.current?.socket.nsp.name ?? '/';
    if (!this.relay || !(await this.relay.forward({ ...operation, sid, namespace }))) {
      throw new UnknownClientError(sid, namespace);
    }
  }

  private perform(operation: PresenceOperation, socket: Socket): Promise<void> {
    const options = { sid: socket.id, namespace: socket.nsp.name };
    const { topic, key, meta } = operation;
    if (operation.op === 'track') return this.track(topic, key!, meta, options);
    if (operation.op === 'update') return this.update(topic, key!, meta ?? {}, options);
    return this.untrack(topic, key, options);
  }
}

function check(topic: unknown, key: unknown, meta: unknown): void {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new TypeError('PresenceService: topic must be a non-empty string');
  }
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError('PresenceService: key must be a non-empty string');
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new TypeError('PresenceService: meta must be a plain object');
  }
}

function noClient(method: string): string {
  return `PresenceService.${method}(): no sid given and no current client: pass { sid } outside a socket handler`;
}

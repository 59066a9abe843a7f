import type { LoggerService } from '@nestjs/common';
import type {
  ClusterAdapterOptions,
  ClusterAdapterWithHeartbeat,
  ClusterMessage,
  ClusterResponse,
} from 'socket.io-adapter';
import {
  decodeMessage,
  encodeMessage,
  newProcessId,
  PROCESS_ID_LENGTH,
  senderOf,
} from './cluster-codec.js';

/** What a broker (AMQP, NATS) does for the cluster: two routes, one to everyone, one to a process. */
export interface BrokerLink {
  /** Sends to every process on the channel; throws (or rejects) while the broker is unreachable. */
  publish(payload: Buffer): void | Promise<void>;
  /** Sends to one process (the responses of the cluster protocol). */
  publishTo(processId: string, payload: Buffer): void | Promise<void>;
}

/** `MessageType.INITIAL_HEARTBEAT` of socket.io-adapter's cluster protocol. */
const INITIAL_HEARTBEAT = 1;
/** How long start-up waits for the broker to bring a process's first heartbeat back. */
const JOIN_TIMEOUT_MS = 10_000;

type AdapterBase = abstract new (
  nsp: any,
  opts: ClusterAdapterOptions,
) => ClusterAdapterWithHeartbeat;

/** The members of the cluster adapter that this file calls. */
interface ClusterMember {
  readonly nsp: { readonly name: string };
  readonly memberUid: string;
  readonly isAnnounced: boolean;
  deliver(message: ClusterMessage): void;
  respond(response: ClusterResponse): void;
  announce(): void;
  readonly announced: Promise<void>;
  markAnnounced(): void;
}

/**
 * One process's side of socket.io's cluster protocol over a broker: it builds the adapter of
 * each namespace (a `ClusterAdapterWithHeartbeat`, as the official Redis Streams, Postgres and
 * Mongo adapters are), routes what the broker delivers to the adapter of the message's namespace,
 * and tells start-up when the broker brought this process's own first heartbeat back.
 */
export class BrokerCluster {
  /** This process; the prefix of every adapter uid, so a response finds its process. */
  readonly processId = newProcessId();
  private readonly members = new Map<string, Set<ClusterMember>>();
  private readonly byUid = new Map<string, ClusterMember>();
  private link?: BrokerLink;
  private nextIndex = 0;
  /** Passed to `server.adapter()`: socket.io calls it with `new` for each namespace. */
  readonly adapter: (nsp: any) => unknown;

  constructor(
    base: AdapterBase,
    options: ClusterAdapterOptions,
    private readonly logger: LoggerService,
  ) {
    const Adapter = brokerAdapterClass(base);
    const build = (nsp: any) => new Adapter(nsp, options, this);
    // A function, not an arrow: socket.io constructs it (`new Adapter(nsp)`).
    this.adapter = function (nsp: any) {
      return build(nsp);
    };
  }

  /** The broker to publish on; published messages fail until there is one. */
  attach(link: BrokerLink): void {
    this.link = link;
  }

  /** Every adapter announces itself again (after a reconnection): peers learn of it at once. */
  announceAll(): void {
    for (const member of this.byUid.values()) member.announce();
  }

  /** Resolves once the broker brought back the first heartbeat of every namespace created so far. */
  async joined(): Promise<void> {
    const pending = [...this.byUid.values()].map((m) => m.announced);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), JOIN_TIMEOUT_MS);
    });
    const outcome = await Promise.race([Promise.all(pending), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.logger.warn?.(
        `Message queue: the broker did not bring this process's heartbeat back within ${JOIN_TIMEOUT_MS} ms; other processes may not know it yet`,
      );
    }
  }

  /** A payload of the route to every process. */
  receive(payload: Uint8Array): void {
    const own = senderOf(payload) === this.processId;
    let message: ClusterMessage;
    try {
      // Our own broadcasts matter only while we wait for our first heartbeat.
      if (own && !this.awaitingEcho()) return;
      message = decodeMessage<ClusterMessage>(payload);
    } catch (err) {
      this.logger.warn?.(`Message queue: dropped a message that is not ours: ${String(err)}`);
      return;
    }
    if (own) {
      if (message.type === INITIAL_HEARTBEAT) this.byUid.get(message.uid)?.markAnnounced();
      return;
    }
    const members = this.members.get(message.nsp);
    if (!members) return;
    for (const member of members) member.deliver(message);
  }

  /** A payload of the route to this process: a response to one of its adapters. */
  receiveResponse(payload: Uint8Array): void {
    let response: ClusterResponse & { to?: string };
    try {
      response = decodeMessage(payload);
    } catch (err) {
      this.logger.warn?.(`Message queue: dropped a message that is not ours: ${String(err)}`);
      return;
    }
    const to = response.to;
    if (to === undefined) return;
    delete response.to;
    this.byUid.get(to)?.respond(response);
  }

  /** @internal */
  register(member: ClusterMember): void {
    let set = this.members.get(member.nsp.name);
    if (!set) this.members.set(member.nsp.name, (set = new Set()));
    set.add(member);
    this.byUid.set(member.memberUid, member);
  }

  /** @internal */
  unregister(member: ClusterMember): void {
    this.members.get(member.nsp.name)?.delete(member);
    this.byUid.delete(member.memberUid);
  }

  /** @internal */
  newUid(): string {
    return `${this.processId}-${this.nextIndex++}`;
  }

  /** @internal */
  async publish(message: ClusterMessage): Promise<string> {
    const link = this.link;
    if (!link) throw new Error('the message queue is not connected');
    await link.publish(encodeMessage(this.processId, message));
    return '';
  }

  /** @internal */
  async publishTo(requesterUid: string, response: ClusterResponse): Promise<void> {
    const link = this.link;
    if (!link) throw new Error('the message queue is not connected');
    const to = requesterUid.slice(0, PROCESS_ID_LENGTH);
    await link.publishTo(to, encodeMessage(this.processId, { ...response, to: requesterUid }));
  }

  private awaitingEcho(): boolean {
    for (const member of this.byUid.values()) if (!member.isAnnounced) return true;
    return false;
  }
}

const classes = new WeakMap<AdapterBase, unknown>();

/**
 * The adapter class over one copy of socket.io-adapter (loaded at run time: it is an optional
 * peer of this package), built once per copy.
 */
function brokerAdapterClass(base: AdapterBase) {
  const known = classes.get(base);
  if (known) return known as ReturnType<typeof define>;
  const defined = define(base);
  classes.set(base, defined);
  return defined;
}

function define(base: AdapterBase) {
  abstract class Base extends (base as unknown as new (
    nsp: any,
    opts: ClusterAdapterOptions,
  ) => ClusterAdapterWithHeartbeat & {
    onMessage(message: ClusterMessage, offset?: string): void;
    onResponse(response: ClusterResponse): void;
  }) {}

  return class BrokerAdapter extends Base implements ClusterMember {
    readonly memberUid: string;
    isAnnounced = false;
    readonly announced: Promise<void>;
    private resolveAnnounced!: () => void;

    constructor(
      nsp: any,
      options: ClusterAdapterOptions,
      private readonly cluster: BrokerCluster,
    ) {
      super(nsp, options);
      this.memberUid = cluster.newUid();
      // The uid names the process (its prefix), so that responses are routed to it.
      (this as unknown as { uid: string }).uid = this.memberUid;
      this.announced = new Promise((resolve) => (this.resolveAnnounced = resolve));
      cluster.register(this);
    }

    announce(): void {
      super.init();
    }

    markAnnounced(): void {
      this.isAnnounced = true;
      this.resolveAnnounced();
    }

    deliver(message: ClusterMessage): void {
      this.onMessage(message);
    }

    respond(response: ClusterResponse): void {
      this.onResponse(response);
    }

    override close(): void {
      super.close();
      this.cluster.unregister(this);
    }

    protected doPublish(message: ClusterMessage): Promise<string> {
      return this.cluster.publish(message);
    }

    protected doPublishResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
      return this.cluster.publishTo(requesterUid, response);
    }
  };
}

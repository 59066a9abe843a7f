import type { LoggerService } from '@nestjs/common';
import type { Server } from 'socket.io';
import type { BroadcastOperator } from '../interfaces/broadcast-operator.interface.js';
import type { QueueEndpoint } from './queue-endpoint.js';
import type { RemoteClients } from './remote-clients.js';

/**
 * What joins the processes of one application (Flask-SocketIO's `message_queue`): a socket.io
 * adapter for servers, or an emitter for emitter-only workers. Injected under the `MessageQueue`
 * token, so a test can replace it with `overrideProvider(MessageQueue)`.
 */
export interface MessageQueue {
  /** Passed to `server.adapter()` for every server; absent: socket.io's in-memory adapter. */
  readonly adapter?: unknown;
  /** The broadcast operator of a namespace, for emitter-only workers (which have no server). */
  emitter?(namespace: string): BroadcastOperator;
  /** Room, rooms and disconnect helpers for clients that other processes serve. */
  remoteClients(server: Server | undefined): RemoteClients;
  /** Resolves when the queue answers, rejects with the reason when it does not (health checks). */
  probe?(): Promise<void>;
  /** Resolves once the other processes can know this one (its first heartbeat went round). */
  joined?(): Promise<void>;
  /** Closes every connection the queue opened. */
  close(): Promise<void>;
}

/** Told when a connection of the queue is lost (`down`) and when it is back (`up`). */
export type QueueStateListener = (
  state: 'down' | 'up',
  queue: string,
  role: string,
  reason?: string,
) => void;

/** Injection token of the application's `MessageQueue` (an interface and a Symbol of one name). */
export const MessageQueue = Symbol('SOCKET_IO:MESSAGE_QUEUE');

/** What every kind of queue is connected with, besides its endpoint. */
export interface MessageQueueSettings {
  /** Prefix of every key and channel (the `channel` option). */
  readonly channel: string;
  /** Build a worker's emitter instead of a server adapter. */
  readonly emitterOnly: boolean;
  readonly logger: LoggerService;
  /** Told about outages (the observability provider publishes and records them). */
  readonly onState?: QueueStateListener;
}

/** One kind of message queue: the URLs and `type` that select it, and how to connect it. */
export interface MessageQueueKind {
  /** The `type` of the object form of the option (`messageQueue: { type, url }`). */
  readonly type: string;
  /** URL schemes of the string form that select this kind, without the colon. */
  readonly schemes: readonly string[];
  /** The service's name in log and error messages (`Redis at host:port`). */
  readonly service: string;
  /** The port a URL without one means. */
  readonly defaultPort: number;
  /** Schemes whose URLs without a port mean another one (`amqps`: 5671). */
  readonly schemePorts?: Readonly<Record<string, number>>;
  /** Connects the queue, failing with an error that names the service when it is unreachable. */
  connect(endpoint: QueueEndpoint, settings: MessageQueueSettings): Promise<MessageQueue>;
}

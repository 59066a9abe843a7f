import type { ConnectionOptions, NatsConnection } from 'nats';
import { setTimeout as delay } from 'node:timers/promises';
import { loadOptional } from '../load-optional.js';
import {
  brokerCluster,
  brokerQueue,
  BrokerConnectionState,
  reconnectDelay,
  STARTUP_ATTEMPTS,
} from './broker-queue.js';
import type { MessageQueue, MessageQueueSettings } from './message-queue.interface.js';
import type { QueueEndpoint } from './queue-endpoint.js';

type NatsModule = Pick<typeof import('nats'), 'connect'>;

/** How long closing waits for the pending messages to leave before it drops the connection. */
const DRAIN_TIMEOUT_MS = 2000;

/**
 * Builds the NATS message queue (core NATS, at most once): the subject `<channel>.all` for every
 * process and `<channel>.p.<process id>` for the responses to one process. The client reconnects
 * by itself and subscribes again; the delay between attempts is ours (jittered backoff).
 */
export async function createNatsQueue(
  endpoint: QueueEndpoint,
  { channel, emitterOnly, logger, onState }: MessageQueueSettings,
): Promise<MessageQueue> {
  if (!/^[^\s*>.]+(\.[^\s*>.]+)*$/.test(channel)) {
    throw new Error(
      `SocketIOModule: channel "${channel}" is not a valid NATS subject (no spaces, "*", ">" or empty tokens)`,
    );
  }
  const nats = await loadOptional<NatsModule>('nats', `messageQueue (${endpoint.type})`);
  const cluster = await brokerCluster(endpoint, emitterOnly, logger);
  const state = new BrokerConnectionState(endpoint, logger, onState);
  let attempt = 0;
  const { heartbeatInterval: _i, heartbeatTimeout: _t, ...clientOptions } = endpoint.adapterOptions;
  const options: ConnectionOptions = {
    ...serverOptions(endpoint.url),
    name: 'nest-socketio',
    timeout: 5000,
    maxReconnectAttempts: -1,
    reconnectDelayHandler: () => reconnectDelay(++attempt),
    ...clientOptions,
  };

  let nc: NatsConnection | undefined;
  let lastError: unknown;
  for (let i = 0; i < STARTUP_ATTEMPTS && !nc; i++) {
    if (i > 0) await delay(reconnectDelay(i));
    nc = await nats.connect(options).catch((err: unknown) => {
      lastError = err;
      return undefined;
    });
  }
  if (!nc) throw state.unreachable(natsReason(lastError));
  const connection = nc;

  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') state.lost(`disconnected from ${String(status.data)}`);
      if (status.type === 'reconnect') {
        attempt = 0;
        state.restored();
        // Peers may have dropped this process meanwhile: announce it so they count it at once.
        cluster?.announceAll();
      }
    }
  })().catch(() => undefined);

  const toAll = `${channel}.all`;
  if (cluster) {
    connection.subscribe(toAll, { callback: (_err, msg) => cluster.receive(msg.data) });
    connection.subscribe(`${channel}.p.${cluster.processId}`, {
      callback: (_err, msg) => cluster.receiveResponse(msg.data),
    });
    // The subscriptions are in place on the server before anything is published.
    await connection.flush();
  }

  return brokerQueue(
    cluster,
    {
      // During an outage the client would buffer messages and send them late: state.check()
      // refuses them first, as the other queues do.
      publish: (payload) => connection.publish(toAll, payload),
      publishTo: (processId, payload) => connection.publish(`${channel}.p.${processId}`, payload),
    },
    state,
    () => connection.flush(),
    async () => {
      if (connection.isClosed()) return;
      const drained = connection.drain().catch(() => undefined);
      const late = delay(DRAIN_TIMEOUT_MS, 'late', { ref: false });
      if ((await Promise.race([drained, late])) === 'late') await connection.close();
    },
  );
}

/** The server and credentials of a `nats://user:pass@host:port` (or `nats://token@host`) URL. */
function serverOptions(url: string): ConnectionOptions {
  const parsed = new URL(url);
  const server = `${parsed.hostname}:${parsed.port || 4222}`;
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  const tls = parsed.protocol === 'tls:' ? { tls: {} } : {};
  if (user && pass) return { servers: server, user, pass, ...tls };
  if (user) return { servers: server, token: user, ...tls };
  return { servers: server, ...tls };
}

/** NATS errors carry a bare code ('CONNECTION_REFUSED'): say it in words. */
function natsReason(err: unknown): unknown {
  const code = (err as { code?: string })?.code;
  if (code === 'CONNECTION_REFUSED') return 'connection refused';
  if (code === 'AUTHORIZATION_VIOLATION') return 'authorization violation (user or password)';
  return err;
}

import { setTimeout as delay } from 'node:timers/promises';
import type { BroadcastOperator } from '../interfaces/broadcast-operator.interface.js';
import { loadOptional } from '../load-optional.js';
import { clusterQueue } from './cluster-clients.js';
import { emitterQueue } from './emitter-clients.js';
import type { MessageQueue, MessageQueueSettings } from './message-queue.interface.js';
import { namespaceStampingPool, type MsgpackCodec } from './postgres-emitter-pool.js';
import { queueErrorText, unreachableQueueError, type QueueEndpoint } from './queue-endpoint.js';

/** The part of a `pg` pool this file uses. */
interface Pool {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  end(): Promise<void>;
}

const DEFAULT_TABLE = 'socket_io_attachments';
const END_GRACE_MS = 1000;

/** Builds the PostgreSQL message queue (LISTEN/NOTIFY), or a worker's emitter on it. */
export async function createPostgresQueue(
  endpoint: QueueEndpoint,
  { channel, emitterOnly, logger, onState }: MessageQueueSettings,
): Promise<MessageQueue> {
  const pg = await loadOptional<any>('pg', 'messageQueue (postgres)');
  const Pool = (pg.Pool ?? pg.default?.Pool) as new (options: Record<string, unknown>) => Pool;
  // A worker publishes on one connection, so its changes and emits arrive in the order it made them.
  const pool = new Pool({
    connectionString: endpoint.url,
    connectionTimeoutMillis: 5000,
    // Shows who holds the connection in pg_stat_activity; a URL's ?application_name= wins.
    ...(/[?&]application_name=/.test(endpoint.url) ? {} : { application_name: 'nest-socketio' }),
    ...(emitterOnly ? { max: 1 } : {}),
  });
  let down = false;
  const report = (err: Error) => {
    const reason = queueErrorText(err, endpoint);
    logger.error(
      `Message queue: ${endpoint.label}: ${reason}. Local clients are still served; retrying.`,
    );
    down = true;
    onState?.('down', endpoint.label, 'pool', reason);
  };
  // Idle and checked-out connections (the adapter's LISTEN connection) must not crash the process.
  pool.on('error', report);
  pool.on('connect', (client: { on(e: string, l: (err: Error) => void): void }) => {
    client.on('error', report);
    // A new connection after a failure: the server is reachable again.
    if (down) {
      down = false;
      onState?.('up', endpoint.label, 'pool');
    }
  });
  const probe = async () => {
    await pool.query('SELECT 1');
  };
  const tableName = String(endpoint.adapterOptions.tableName ?? DEFAULT_TABLE);
  try {
    await createAttachmentTable(pool, tableName);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw unreachableQueueError(endpoint, err);
  }
  const options = { channelPrefix: channel, tableName, ...endpoint.adapterOptions };
  // The adapter never releases a LISTEN connection the server dropped, and pool.end() waits for
  // every checked-out connection: do not wait for dead ones longer than a moment.
  const close = () =>
    Promise.race([
      pool.end().catch(() => undefined),
      delay(END_GRACE_MS, undefined, { ref: false }),
    ]);
  if (emitterOnly) {
    const { Emitter } = await loadOptional<any>('@socket.io/postgres-emitter', 'emitterOnly: true');
    const msgpack = await loadOptional<MsgpackCodec>('@msgpack/msgpack', 'emitterOnly: true');
    // Emitter.of() forgets the options (the channel prefix): build one per namespace instead.
    return emitterQueue(
      (namespace) =>
        new Emitter(
          namespaceStampingPool(pool, namespace, msgpack),
          namespace,
          options,
        ) as BroadcastOperator,
      probe,
      close,
    );
  }
  const { createAdapter } = await loadOptional<any>(
    '@socket.io/postgres-adapter',
    'messageQueue (postgres)',
  );
  return clusterQueue(createAdapter(pool, { errorHandler: report, ...options }), close, probe);
}

/** Large and binary packets travel through this table; created here so users need no migration. */
async function createAttachmentTable(pool: Pool, table: string): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(table)) {
    throw new Error(`adapterOptions.tableName "${table}" is not a plain SQL identifier`);
  }
  try {
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${table} (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)`,
    );
  } catch (err) {
    // Two processes starting together may race on IF NOT EXISTS: the table exists either way.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw err;
  }
}

/** The part of a `pg` pool the Postgres emitter uses. */
export interface QueryablePool {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** MessagePack, as `@msgpack/msgpack` (the emitter's own encoder) provides it. */
export interface MsgpackCodec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

/**
 * `@socket.io/postgres-emitter` 0.1 writes messages without the `nsp` field that
 * `@socket.io/postgres-adapter` 0.5 routes by, so servers drop everything a worker sends.
 * This view of the pool adds the namespace to each message (JSON in `pg_notify`, MessagePack in
 * the attachment table, decoded and encoded again) before it leaves.
 */
export function namespaceStampingPool(
  pool: QueryablePool,
  nsp: string,
  msgpack: MsgpackCodec,
): QueryablePool {
  return {
    query(sql: string, params?: unknown[]) {
      if (!params) return pool.query(sql, params);
      if (sql.includes('pg_notify') && typeof params[1] === 'string') {
        const message = JSON.parse(params[1]) as Record<string, unknown>;
        if (message.attachmentId === undefined && message.nsp === undefined) {
          message.nsp = nsp;
          return pool.query(sql, [params[0], JSON.stringify(message), ...params.slice(2)]);
        }
      } else if (/^\s*INSERT/i.test(sql) && params[0] instanceof Uint8Array) {
        return pool.query(sql, [withNamespace(params[0], nsp, msgpack), ...params.slice(1)]);
      }
      return pool.query(sql, params);
    },
  };
}

/** The message with its `nsp` set, whatever the size of its map; anything else unchanged. */
function withNamespace(encoded: Uint8Array, nsp: string, msgpack: MsgpackCodec): Uint8Array {
  const message = msgpack.decode(encoded);
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return encoded;
  if ((message as { nsp?: unknown }).nsp !== undefined) return encoded;
  return msgpack.encode({ ...message, nsp });
}

/** The part of a `pg` pool the Postgres emitter uses. */
export interface QueryablePool {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * `@socket.io/postgres-emitter` 0.1 writes messages without the `nsp` field that
 * `@socket.io/postgres-adapter` 0.5 routes by, so servers drop everything a worker sends.
 * This view of the pool adds the namespace to each message (JSON in `pg_notify`, MessagePack in
 * the attachment table) before it leaves.
 */
export function namespaceStampingPool(pool: QueryablePool, nsp: string): QueryablePool {
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
        return pool.query(sql, [withMsgpackKey(params[0], 'nsp', nsp), ...params.slice(1)]);
      }
      return pool.query(sql, params);
    },
  };
}

/** Adds a string entry to a MessagePack-encoded map (a fixmap, as the emitter's messages are). */
function withMsgpackKey(encoded: Uint8Array, key: string, value: string): Uint8Array {
  const head = encoded[0];
  // fixmap: 0x80 | size, size < 15 so one more entry still fits.
  if ((head & 0xf0) !== 0x80 || (head & 0x0f) >= 15) return encoded;
  const out = Buffer.concat([
    Buffer.from([head + 1]),
    encoded.subarray(1),
    msgpackString(key),
    msgpackString(value),
  ]);
  return out;
}

function msgpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const n = bytes.length;
  if (n < 32) return Buffer.concat([Buffer.from([0xa0 | n]), bytes]);
  if (n < 0x100) return Buffer.concat([Buffer.from([0xd9, n]), bytes]);
  if (n < 0x10000) return Buffer.concat([Buffer.from([0xda, n >> 8, n & 0xff]), bytes]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(n);
  return Buffer.concat([Buffer.from([0xdb]), len, bytes]);
}

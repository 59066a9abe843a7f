import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { namespaceStampingPool } from '../../../lib/queue/postgres-emitter-pool.js';

/** A pool that records the queries it is given (what would reach PostgreSQL). */
function recordingPool() {
  const queries: { sql: string; params?: unknown[] }[] = [];
  return {
    queries,
    query: async (sql: string, params?: unknown[]) => {
      queries.push({ sql, params });
      return { rows: [] };
    },
  };
}

const INSERT = 'INSERT INTO socket_io_attachments (payload) VALUES ($1) RETURNING id;';

describe("the postgres emitter's namespace stamp", () => {
  it.each([1, 14, 15, 16, 40])('adds nsp to a MessagePack map of %i entries', async (size) => {
    const message = Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}`, i]));
    const pool = recordingPool();
    await namespaceStampingPool(pool, '/chat', { encode, decode }).query(INSERT, [encode(message)]);
    expect(decode(pool.queries[0]!.params![0] as Uint8Array)).toEqual({ ...message, nsp: '/chat' });
  });

  it('keeps an nsp already there, and adds one to a pg_notify JSON message', async () => {
    const pool = recordingPool();
    const stamped = namespaceStampingPool(pool, '/chat', { encode, decode });
    await stamped.query(INSERT, [encode({ nsp: '/other', type: 1 })]);
    await stamped.query('SELECT pg_notify($1, $2)', ['channel', JSON.stringify({ type: 1 })]);
    expect(decode(pool.queries[0]!.params![0] as Uint8Array)).toEqual({ nsp: '/other', type: 1 });
    expect(JSON.parse(pool.queries[1]!.params![1] as string)).toEqual({ type: 1, nsp: '/chat' });
  });
});

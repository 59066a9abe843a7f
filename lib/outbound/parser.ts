import type { ServerOptions } from 'socket.io';
import { loadOptional } from '../load-optional.js';

/** The socket.io parser for the `parser` option (`undefined` keeps socket.io's default). */
export async function loadParser(
  parser: 'default' | 'msgpack' | undefined,
): Promise<ServerOptions['parser'] | undefined> {
  if (parser !== 'msgpack') return undefined;
  const mod = await loadOptional<{ default?: unknown }>(
    'socket.io-msgpack-parser',
    "parser: 'msgpack'",
  );
  return (mod.default ?? mod) as ServerOptions['parser'];
}

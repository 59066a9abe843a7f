import { loadOptional } from '../load-optional.js';

/**
 * A WebSocket server class with the shape of `ws`'s `WebSocketServer` (`new Engine({ noServer,
 * clientTracking, perMessageDeflate, maxPayload })`, `handleUpgrade`), as Engine.IO's `wsEngine`
 * takes it.
 */
export type WsServerClass = abstract new (options: any, ...rest: any[]) => unknown;

/** The `wsEngine` option: `'ws'` (Engine.IO's default), `'eiows'`, or a server class. */
export type WsEngineOption = 'ws' | 'eiows' | WsServerClass;

/** The oldest Node major eiows supports (its native addon is built for Node 22.9+). */
const EIOWS_MIN_NODE_MAJOR = 22;

/**
 * What is wrong with a `wsEngine` value on this Node, or undefined when it is right. eiows is
 * refused on Node 20 here, at start-up: its addon would fail later with a loader error naming a
 * file.
 */
export function wsEngineProblem(
  value: unknown,
  nodeVersion = process.versions.node,
): string | undefined {
  if (value === 'eiows' && Number(nodeVersion.split('.')[0]) < EIOWS_MIN_NODE_MAJOR) {
    return `is 'eiows', which needs Node ${EIOWS_MIN_NODE_MAJOR} or newer (this is Node ${nodeVersion}): use 'ws' (the default) on this Node`;
  }
  if (value === 'ws' || value === 'eiows' || typeof value === 'function') return undefined;
  return "must be 'ws', 'eiows' or a ws-compatible server class (such as eiows' Server)";
}

/**
 * The server class Engine.IO is given for the `wsEngine` option; undefined keeps its default
 * (`ws`, which uses `bufferutil` by itself when that package is installed).
 */
export async function loadWsEngine(
  option: WsEngineOption | undefined,
): Promise<WsServerClass | undefined> {
  if (option === undefined || option === 'ws') return undefined;
  if (typeof option === 'function') return option;
  const nodeVersion = process.versions.node;
  let mod: { Server?: unknown; default?: { Server?: unknown } };
  try {
    mod = await loadOptional('eiows', "wsEngine: 'eiows'");
  } catch (err) {
    if ((err as Error).name === 'MissingDependencyError') throw err;
    // eiows builds its addon for one exact Node release when it is installed.
    throw new Error(
      `SocketIOModule: wsEngine: 'eiows' is installed but does not load on Node ${nodeVersion} (reinstall it under this Node: npm rebuild eiows): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const server = mod.Server ?? mod.default?.Server;
  if (typeof server !== 'function') {
    throw new Error(
      "SocketIOModule: wsEngine: 'eiows' loaded, but the package has no Server class",
    );
  }
  return server as WsServerClass;
}

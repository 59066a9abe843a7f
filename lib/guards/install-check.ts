import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

/** Thrown at start-up when the socket.io install cannot work: wrong major version, or two loaded copies. */
export class IncompatibleSocketIOError extends Error {
  override readonly name = 'IncompatibleSocketIOError';
  constructor(
    message: string,
    /** Every socket.io copy loaded in the process. */
    readonly copies: SocketIOCopy[],
  ) {
    super(message);
  }
}

/** One socket.io package directory loaded in the process, and its version. */
export interface SocketIOCopy {
  path: string;
  version: string;
}

/** What the check looks at; tests pass their own, the module uses the process's. */
export interface SocketIOInstallProbe {
  /** Files loaded in the process (the keys of `require.cache`: socket.io is CommonJS, even when imported). */
  loadedFiles: string[];
  /** The socket.io entry file Node resolves for nest-socketio. */
  ownEntry?: string;
  /** Where `@nestjs/platform-socket.io`'s socket.io would come from, if it is installed. */
  platformEntry?: string;
  /** Receives the line about a copy that is installed but never loaded. */
  debug?: (message: string) => void;
}

const require = createRequire(import.meta.url);
const SOCKET_IO_DIR = `${sep}node_modules${sep}socket.io${sep}`;
const PLATFORM_DIR = `${sep}@nestjs${sep}platform-socket.io${sep}`;

function resolveFrom(request: string, from: string): string | undefined {
  try {
    return createRequire(from).resolve(request);
  } catch {
    return undefined;
  }
}

/** The package directory of a socket.io file: the nearest folder whose package.json is socket.io's. */
function socketIORoot(file: string): string | undefined {
  const marker = file.lastIndexOf(SOCKET_IO_DIR);
  if (marker >= 0) return file.slice(0, marker + SOCKET_IO_DIR.length - 1);
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const name = readManifest(dir)?.name;
    if (name === 'socket.io') return dir;
    if (name !== undefined) return undefined;
  }
  return undefined;
}

function readManifest(dir: string): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function copyAt(path: string): SocketIOCopy {
  return { path, version: String(readManifest(path)?.version ?? 'unknown') };
}

/** How Node resolves socket.io here and for `@nestjs/platform-socket.io`, and what is loaded now. */
export function processProbe(debug?: (message: string) => void): SocketIOInstallProbe {
  const platform =
    resolveFrom('@nestjs/platform-socket.io', import.meta.url) ??
    resolveFrom('@nestjs/platform-socket.io', join(process.cwd(), 'package.json'));
  return {
    loadedFiles: Object.keys(require.cache),
    ownEntry: resolveFrom('socket.io', import.meta.url),
    platformEntry: platform && resolveFrom('socket.io', platform),
    debug,
  };
}

/** The socket.io copies loaded in the process (plus nest-socketio's own, which it is loading). */
export function loadedSocketIOCopies(probe: SocketIOInstallProbe): SocketIOCopy[] {
  const roots = new Set<string>();
  for (const file of [probe.ownEntry, ...probe.loadedFiles]) {
    if (!file) continue;
    if (file !== probe.ownEntry && !file.includes(SOCKET_IO_DIR)) continue;
    const root = socketIORoot(file);
    if (root) roots.add(root);
  }
  return [...roots].map(copyAt);
}

/**
 * Flask-SocketIO refuses to run next to gevent-socketio; this refuses a socket.io that is not
 * major version 4, and two different copies of socket.io loaded in one process (their classes
 * fail `instanceof` checks against each other, and an adapter installed on one does not serve
 * the other). A copy that is installed but never loaded, such as the one
 * `@nestjs/platform-socket.io` pins when the module installs its own adapter, harms nothing: it
 * gets a debug line. Throws, never exits.
 */
export function checkSocketIOInstall(probe: SocketIOInstallProbe = processProbe()): void {
  const copies = loadedSocketIOCopies(probe);
  const list = copies.map((c) => `  - ${c.path} (socket.io ${c.version})`).join('\n');
  const wrongMajor = copies.find((c) => !c.version.startsWith('4.'));
  if (wrongMajor) {
    throw new IncompatibleSocketIOError(
      `nest-socketio needs socket.io 4, but socket.io ${wrongMajor.version} is loaded from ${wrongMajor.path}.\n${list}\nInstall socket.io 4: npm install socket.io@^4.8.0`,
      copies,
    );
  }
  if (copies.length > 1) {
    const viaPlatform = copies.some((c) => c.path.includes(PLATFORM_DIR))
      ? `\n@nestjs/platform-socket.io loaded its own copy: SocketIOModule does not need it, so an app.useWebSocketAdapter(new IoAdapter(app)) or other import of it can go.`
      : '';
    throw new IncompatibleSocketIOError(
      `Two copies of socket.io are loaded in this process, which breaks instanceof checks and adapters in confusing ways:\n${list}${viaPlatform}\nMake every package load one socket.io: npm ls socket.io shows who depends on which; npm dedupe or an "overrides" entry in package.json fixes it.`,
      copies,
    );
  }
  const platform = probe.platformEntry && socketIORoot(probe.platformEntry);
  if (platform && copies.length === 1 && platform !== copies[0]!.path) {
    const unused = copyAt(platform);
    probe.debug?.(
      `@nestjs/platform-socket.io has its own socket.io ${unused.version} at ${unused.path}; it is not loaded (this module installs its own adapter), so it does no harm.`,
    );
  }
}

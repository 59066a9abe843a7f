import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Thrown at start-up when the socket.io install cannot work: wrong major version, or two copies. */
export class IncompatibleSocketIOError extends Error {
  override readonly name = 'IncompatibleSocketIOError';
  constructor(
    message: string,
    /** Every socket.io copy found, with the package that loads it. */
    readonly copies: SocketIOCopy[],
  ) {
    super(message);
  }
}

/** One socket.io directory, and which package resolves to it. */
export interface SocketIOCopy {
  requiredBy: string;
  path: string;
  version: string;
}

/** A package (or the application) that loads socket.io, by the directory it resolves from. */
export interface SocketIORequester {
  name: string;
  from: string;
}

/** The directory of package `name` as Node resolves it from `from` (node_modules lookup). */
function packageDir(name: string, from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function versionOf(dir: string): string {
  try {
    return String(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/**
 * Who loads socket.io in this process: nest-socketio itself, `@nestjs/platform-socket.io` (from
 * wherever nest-socketio finds it) and the application, from its main script (not the working
 * directory, which in a monorepo is often another package's root), unless a tool inside
 * node_modules (a test runner, a process manager) is the main script.
 */
export function defaultRequesters(): SocketIORequester[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const requesters: SocketIORequester[] = [{ name: 'nest-socketio', from: here }];
  const platform = packageDir('@nestjs/platform-socket.io', here);
  if (platform) requesters.push({ name: '@nestjs/platform-socket.io', from: platform });
  const main = mainScriptDir();
  if (main) requesters.push({ name: 'the application', from: main });
  return requesters;
}

function mainScriptDir(): string | undefined {
  const main = process.argv[1];
  if (!main) return undefined;
  try {
    const path = realpathSync(main);
    return path.split(sep).includes('node_modules') ? undefined : dirname(path);
  } catch {
    return undefined;
  }
}

/** The socket.io copy each requester resolves to (requesters that find none are left out). */
export function findSocketIOCopies(requesters: SocketIORequester[]): SocketIOCopy[] {
  const copies: SocketIOCopy[] = [];
  for (const { name, from } of requesters) {
    const path = packageDir('socket.io', from);
    if (path) copies.push({ requiredBy: name, path, version: versionOf(path) });
  }
  return copies;
}

/**
 * Flask-SocketIO refuses to run next to gevent-socketio; this refuses, with the paths, a socket.io
 * that is not major version 4 and two different copies of socket.io in one application (their
 * classes fail `instanceof` checks against each other, and an adapter installed on one does not
 * serve the other). Throws, never exits.
 */
export function checkSocketIOInstall(requesters: SocketIORequester[] = defaultRequesters()): void {
  const copies = findSocketIOCopies(requesters);
  const wrongMajor = copies.filter((c) => !c.version.startsWith('4.'));
  const list = copies.map(
    (c) => `  - ${c.path} (socket.io ${c.version}, loaded by ${c.requiredBy})`,
  );
  if (wrongMajor.length > 0) {
    throw new IncompatibleSocketIOError(
      `nest-socketio needs socket.io 4, but found socket.io ${wrongMajor[0]!.version} at ${wrongMajor[0]!.path}.\n${list.join('\n')}\nInstall socket.io 4 (npm install socket.io@4) and remove other versions.`,
      copies,
    );
  }
  const paths = new Set(copies.map((c) => c.path));
  if (paths.size > 1) {
    throw new IncompatibleSocketIOError(
      `Two copies of socket.io are installed, which breaks instanceof checks and adapters in confusing ways:\n${list.join('\n')}\nInstall the socket.io version @nestjs/platform-socket.io depends on at the top level (npm ls socket.io shows the tree; npm dedupe or an "overrides" entry fixes it).`,
      copies,
    );
  }
}

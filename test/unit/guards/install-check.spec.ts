import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IncompatibleSocketIOError } from 'nest-socketio';
import {
  checkSocketIOInstall,
  loadedSocketIOCopies,
  processProbe,
} from '../../../lib/guards/install-check.js';

const require = createRequire(import.meta.url);
const roots: string[] = [];
const loadedHere: string[] = [];

/**
 * An install as npm lays it out: { 'node_modules/socket.io': '4.8.4', ... }, each package with a
 * package.json and an index.js, so Node can resolve and load it.
 */
function install(packages: Record<string, string>): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'nest-socketio-install-')));
  roots.push(root);
  for (const [dir, version] of Object.entries(packages)) {
    mkdirSync(join(root, dir), { recursive: true });
    const name = dir.split('node_modules/').pop()!;
    writeFileSync(
      join(root, dir, 'package.json'),
      JSON.stringify({ name, version, main: 'index.js' }),
    );
    writeFileSync(join(root, dir, 'index.js'), 'module.exports = { loaded: true };\n');
  }
  return root;
}

/** Loads socket.io the way a package in `dir` would, into this process's module registry. */
function loadFrom(dir: string): string {
  const entry = createRequire(join(dir, 'package.json')).resolve('socket.io');
  require(entry);
  loadedHere.push(entry);
  return entry;
}

/** The loaded files of one install (the repository's own socket.io is loaded in this process too). */
function loadedUnder(root: string): string[] {
  return Object.keys(require.cache).filter((file) => file.startsWith(root));
}

function errorOf(run: () => void): IncompatibleSocketIOError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(IncompatibleSocketIOError);
    return err as IncompatibleSocketIOError;
  }
  throw new Error('expected IncompatibleSocketIOError');
}

afterEach(() => {
  for (const file of loadedHere.splice(0)) delete require.cache[file];
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('the incompatible-install check', () => {
  it('passes on this repository, where one socket.io 4 is loaded', () => {
    require('socket.io');
    const probe = processProbe();
    expect(() => checkSocketIOInstall(probe)).not.toThrow();
    const copies = loadedSocketIOCopies(probe);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.version).toMatch(/^4\./);
  });

  it("passes when @nestjs/platform-socket.io pins its own socket.io that nobody loads, with a debug line (npm's layout for a fresh app)", () => {
    const root = install({
      'node_modules/socket.io': '4.8.4',
      'node_modules/@nestjs/platform-socket.io': '12.1.1',
      'node_modules/@nestjs/platform-socket.io/node_modules/socket.io': '4.8.3',
    });
    const ownEntry = loadFrom(join(root, 'node_modules/nest-socketio'));
    const platformEntry = createRequire(
      join(root, 'node_modules/@nestjs/platform-socket.io/package.json'),
    ).resolve('socket.io');
    const debug: string[] = [];
    checkSocketIOInstall({
      loadedFiles: loadedUnder(root),
      ownEntry,
      platformEntry,
      debug: (line) => debug.push(line),
    });
    expect(debug).toEqual([
      `@nestjs/platform-socket.io has its own socket.io 4.8.3 at ${join(root, 'node_modules/@nestjs/platform-socket.io/node_modules/socket.io')}; it is not loaded (this module installs its own adapter), so it does no harm.`,
    ]);
  });

  it('refuses two copies of socket.io that are both loaded, naming both paths', () => {
    const root = install({
      'node_modules/socket.io': '4.8.4',
      'node_modules/@nestjs/platform-socket.io': '12.1.1',
      'node_modules/@nestjs/platform-socket.io/node_modules/socket.io': '4.8.3',
    });
    const ownEntry = loadFrom(join(root, 'node_modules/nest-socketio'));
    loadFrom(join(root, 'node_modules/@nestjs/platform-socket.io'));
    const error = errorOf(() => checkSocketIOInstall({ loadedFiles: loadedUnder(root), ownEntry }));
    expect(error.message).toContain('Two copies of socket.io are loaded in this process');
    expect(error.message).toContain(`${join(root, 'node_modules/socket.io')} (socket.io 4.8.4)`);
    expect(error.message).toContain(
      `${join(root, 'node_modules/@nestjs/platform-socket.io/node_modules/socket.io')} (socket.io 4.8.3)`,
    );
    expect(error.message).toContain('npm ls socket.io');
    expect(error.message).toContain('@nestjs/platform-socket.io loaded its own copy');
    expect(error.copies.map((c) => c.version).toSorted()).toEqual(['4.8.3', '4.8.4']);
  });

  it('refuses a second copy loaded next to the one this process already runs (default probe)', () => {
    require('socket.io');
    const root = install({ 'node_modules/socket.io': '4.7.5' });
    loadFrom(join(root, 'app'));
    const error = errorOf(() => checkSocketIOInstall());
    expect(error.message).toContain(`${join(root, 'node_modules/socket.io')} (socket.io 4.7.5)`);
    expect(error.copies).toHaveLength(2);
  });

  it('refuses a socket.io that is not major version 4, naming its path and the install command', () => {
    const root = install({ 'node_modules/socket.io': '5.0.0' });
    const ownEntry = loadFrom(join(root, 'node_modules/nest-socketio'));
    const error = errorOf(() => checkSocketIOInstall({ loadedFiles: [], ownEntry }));
    expect(error.message).toContain(
      `nest-socketio needs socket.io 4, but socket.io 5.0.0 is loaded from ${join(root, 'node_modules/socket.io')}`,
    );
    expect(error.message).toContain('npm install socket.io@^4.8.0');
  });

  it('counts a copy reached through a symlink (workspaces, pnpm) once', () => {
    const root = install({ 'node_modules/socket.io': '4.8.4' });
    mkdirSync(join(root, 'packages/api/node_modules'), { recursive: true });
    symlinkSync(
      join(root, 'node_modules/socket.io'),
      join(root, 'packages/api/node_modules/socket.io'),
    );
    const ownEntry = loadFrom(join(root, 'node_modules/nest-socketio'));
    loadFrom(join(root, 'packages/api'));
    const probe = { loadedFiles: loadedUnder(root), ownEntry };
    expect(() => checkSocketIOInstall(probe)).not.toThrow();
    expect(loadedSocketIOCopies(probe)).toEqual([
      { path: join(root, 'node_modules/socket.io'), version: '4.8.4' },
    ]);
  });

  it("follows Node's resolution: the nearest copy wins", () => {
    const root = install({
      'node_modules/socket.io': '4.8.3',
      'node_modules/nest-socketio/node_modules/socket.io': '3.1.2',
    });
    const ownEntry = loadFrom(join(root, 'node_modules/nest-socketio'));
    expect(() => checkSocketIOInstall({ loadedFiles: [ownEntry], ownEntry })).toThrow(
      /socket\.io 3\.1\.2 is loaded from .*nest-socketio\/node_modules\/socket\.io/,
    );
  });
});

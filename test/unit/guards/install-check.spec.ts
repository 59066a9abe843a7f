import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IncompatibleSocketIOError } from 'nest-socketio';
import {
  checkSocketIOInstall,
  defaultRequesters,
  findSocketIOCopies,
} from '../../../lib/guards/install-check.js';

const roots: string[] = [];

/** A directory tree of package.json files: { 'node_modules/socket.io': '4.8.3', ... }. */
function tree(packages: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nest-socketio-install-'));
  roots.push(root);
  for (const [dir, version] of Object.entries(packages)) {
    mkdirSync(join(root, dir), { recursive: true });
    const name = dir.split('node_modules/').pop()!;
    writeFileSync(join(root, dir, 'package.json'), JSON.stringify({ name, version }));
  }
  mkdirSync(join(root, 'app'), { recursive: true });
  return root;
}

function requesters(root: string) {
  return [
    { name: 'nest-socketio', from: join(root, 'node_modules/nest-socketio/dist') },
    { name: 'the application', from: join(root, 'app') },
    {
      name: '@nestjs/platform-socket.io',
      from: join(root, 'node_modules/@nestjs/platform-socket.io'),
    },
  ];
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('the incompatible-install check', () => {
  it('passes on this repository, where one socket.io 4 is installed', () => {
    expect(() => checkSocketIOInstall()).not.toThrow();
    const copies = findSocketIOCopies(defaultRequesters());
    // The main script is vitest's, inside node_modules: the application is not asked.
    expect(copies.map((c) => c.requiredBy)).toEqual([
      'nest-socketio',
      '@nestjs/platform-socket.io',
    ]);
    expect(new Set(copies.map((c) => c.path)).size).toBe(1);
    expect(copies[0]!.version).toMatch(/^4\./);
  });

  it('passes when every package finds the same copy', () => {
    const root = tree({
      'node_modules/socket.io': '4.8.3',
      'node_modules/nest-socketio': '0.1.0',
      'node_modules/@nestjs/platform-socket.io': '12.1.1',
    });
    expect(() => checkSocketIOInstall(requesters(root))).not.toThrow();
  });

  it('refuses two copies of socket.io, naming both paths', () => {
    const root = tree({
      'node_modules/socket.io': '4.8.4',
      'node_modules/nest-socketio': '0.1.0',
      'node_modules/@nestjs/platform-socket.io': '12.1.1',
      'node_modules/@nestjs/platform-socket.io/node_modules/socket.io': '4.8.3',
    });
    let error: unknown;
    try {
      checkSocketIOInstall(requesters(root));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(IncompatibleSocketIOError);
    const message = (error as Error).message;
    expect(message).toContain('Two copies of socket.io are installed');
    expect(message).toContain(
      `${join(root, 'node_modules/socket.io')} (socket.io 4.8.4, loaded by nest-socketio)`,
    );
    expect(message).toContain(
      `${join(root, 'node_modules/@nestjs/platform-socket.io/node_modules/socket.io')} (socket.io 4.8.3, loaded by @nestjs/platform-socket.io)`,
    );
    expect(message).toContain('npm ls socket.io');
  });

  it('refuses a socket.io that is not major version 4, naming its path', () => {
    const root = tree({
      'node_modules/socket.io': '5.0.0',
      'node_modules/nest-socketio': '0.1.0',
      'node_modules/@nestjs/platform-socket.io': '12.1.1',
    });
    expect(() => checkSocketIOInstall(requesters(root))).toThrow(
      `nest-socketio needs socket.io 4, but found socket.io 5.0.0 at ${join(root, 'node_modules/socket.io')}`,
    );
  });

  it('resolves the nearest copy, as Node does', () => {
    const root = tree({
      'node_modules/socket.io': '4.8.3',
      'node_modules/nest-socketio/node_modules/socket.io': '3.1.2',
      'node_modules/@nestjs/platform-socket.io': '12.1.1',
    });
    expect(() => checkSocketIOInstall(requesters(root))).toThrow(
      /found socket.io 3\.1\.2 at .*nest-socketio\/node_modules\/socket\.io/,
    );
  });
});

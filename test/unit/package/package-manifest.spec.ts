import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports: Record<string, Record<string, string> | string>;
  type: string;
  files: string[];
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
  license: string;
  repository?: { url?: string };
  homepage?: string;
  bugs?: { url?: string };
};

/** What `npm pack` would put in the tarball (dist as last built; CI builds before testing). */
function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Bare specifiers a file imports: static, dynamic, and through `loadOptional('pkg', ...)`. */
function importsOf(source: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bloadOptional(?:<[^>]*>)?\(\s*['"]([^'"]+)['"]/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) found.add(match[1]);
  }
  return [...found].filter((s) => !s.startsWith('.') && !s.startsWith('/'));
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('package manifest', () => {
  const files = sourceFiles(join(root, 'lib'));

  it('lib imports only its dependencies, peers and Node built-ins', () => {
    const allowed = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const builtins = new Set(builtinModules);
    const strays: string[] = [];
    for (const file of files) {
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        const name = packageName(specifier);
        if (specifier.startsWith('node:') || builtins.has(name)) continue;
        if (!allowed.has(name)) strays.push(`${relative(root, file)} imports ${specifier}`);
      }
    }
    expect(strays).toEqual([]);
  });

  it('imports Nest packages from their roots only (no deep or internal imports)', () => {
    const deep: string[] = [];
    for (const file of files) {
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        if (specifier.startsWith('@nestjs/') && specifier.split('/').length > 2) {
          deep.push(`${relative(root, file)} imports ${specifier}`);
        }
      }
    }
    expect(deep).toEqual([]);
  });

  it('relative imports carry the .js extension (ESM)', () => {
    const missing: string[] = [];
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
        if (!match[1].endsWith('.js')) missing.push(`${relative(root, file)}: ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('is pure ESM with both entries built from lib', () => {
    expect(manifest.type).toBe('module');
    expect(manifest.files).toEqual(['dist', 'lib']);
    for (const [entry, source] of [
      ['.', 'lib/index.ts'],
      ['./testing', 'lib/testing/index.ts'],
    ]) {
      const target = manifest.exports[entry] as Record<string, string>;
      expect(target.types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(target.import).toBe(target.default);
      expect(existsSync(join(root, source))).toBe(true);
      expect(target.import.replace('./dist/', 'lib/').replace(/\.js$/, '.ts')).toBe(source);
    }
    expect(manifest.exports['./package.json']).toBe('./package.json');
  });

  it('optional features are optional peers', () => {
    for (const name of [
      '@socket.io/redis-adapter',
      '@socket.io/postgres-adapter',
      'express-session',
      'socket.io-client',
      'socket.io-msgpack-parser',
      'eiows',
    ]) {
      expect(manifest.peerDependencies?.[name], name).toBeDefined();
      expect(manifest.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
    }
  });

  it('installs next to Nest 11 and 12; @nestjs/platform-socket.io is optional', () => {
    for (const name of [
      '@nestjs/common',
      '@nestjs/core',
      '@nestjs/websockets',
      '@nestjs/platform-socket.io',
    ]) {
      expect(manifest.peerDependencies?.[name], name).toBe('^11.0.0 || ^12.0.0');
    }
    expect(manifest.peerDependenciesMeta?.['@nestjs/platform-socket.io']?.optional).toBe(true);
    for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/websockets', 'socket.io']) {
      expect(manifest.peerDependenciesMeta?.[name]?.optional, name).toBeUndefined();
    }
  });

  it('tests run on the socket.io range users get, not a pinned version', () => {
    expect(manifest.peerDependencies?.['socket.io']).toBe('^4.8.0');
    expect(manifest.devDependencies['socket.io']).toBe('^4.8.0');
  });

  it('carries a license file, its repository, and builds before packing', () => {
    expect(manifest.license).toBe('MIT');
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('nest-socketio contributors');
    expect(manifest.repository?.url).toMatch(/github\.com\/nest-socketio\/nest-socketio/);
    expect(manifest.homepage).toMatch(/^https:\/\/github\.com\/nest-socketio\/nest-socketio/);
    expect(manifest.bugs?.url).toMatch(/\/issues$/);
    expect(manifest.scripts.prepack).toBe('npm run build');
  });

  it('packs only what a user needs, and every source map points at a packed file', () => {
    const packed = packedFiles();
    const stray = packed.filter(
      (path) =>
        !/^(dist|lib)\//.test(path) && !['package.json', 'README.md', 'LICENSE'].includes(path),
    );
    expect(stray).toEqual([]);
    expect(packed).toContain('LICENSE');
    expect(packed.filter((p) => p.startsWith('lib/') && !p.endsWith('.ts'))).toEqual([]);
    const maps = packed.filter((p) => p.endsWith('.map'));
    const unresolved: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(map), source));
        if (!packed.includes(target)) unresolved.push(`${map} -> ${target}`);
      }
    }
    expect(unresolved).toEqual([]);
    if (existsSync(join(root, 'dist'))) expect(maps.length).toBeGreaterThan(0);
  });
});

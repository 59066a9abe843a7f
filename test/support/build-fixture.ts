// Compiles lib/ and an app fixture with tsc into a private folder (node has no TypeScript loader
// here), for tests that run the app in processes of its own.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

const builds = new Map<string, Promise<string>>();
const buildDirs: string[] = [];

/** Compiles the library and an app fixture once per test file; returns the app's entry. */
export function buildFixture(fixture: string): Promise<string> {
  let built = builds.get(fixture);
  if (!built) builds.set(fixture, (built = compile(fixture)));
  return built;
}

function compile(fixture: string): Promise<string> {
  return (async () => {
    const cache = join(root, 'node_modules', '.cache');
    await mkdir(cache, { recursive: true });
    const dir = await mkdtemp(join(cache, 'nest-socketio-fixture-'));
    buildDirs.push(dir);
    const out = join(dir, 'out');
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          rootDir: root,
          outDir: out,
          declaration: false,
          sourceMap: false,
          noUnusedLocals: false,
          paths: {},
        },
        files: [join(root, fixture)],
        include: [],
      }),
    );
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    // Type errors elsewhere in the tree do not stop the emit; a missing output does.
    await promisify(execFile)(tsc, ['-p', join(dir, 'tsconfig.json')]).catch(() => undefined);
    const entry = join(out, fixture.replace(/\.ts$/, '.js'));
    if (!existsSync(entry)) throw new Error(`tsc did not emit ${entry}`);
    await writeFile(join(out, 'package.json'), '{ "type": "module" }');
    return entry;
  })();
}

/** Removes what buildFixture() compiled. */
export async function removeBuilds(): Promise<void> {
  await Promise.all(buildDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  builds.clear();
}

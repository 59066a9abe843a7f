import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** System browsers tried in order; `CHROMIUM_PATH` names another one. */
const SYSTEM_CHROMIUMS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** Where screenshots go (gitignored). */
export const ARTIFACTS_DIR = 'test-artifacts';

/**
 * The browser the tests run: `CHROMIUM_PATH` if set, else a system Chromium, else the Chromium
 * that the `@sparticuz/chromium` devDependency ships inside its npm tarball (unpacked once into
 * the temporary folder), so `npm install && npm test` needs no manual step.
 */
export async function chromiumExecutable(): Promise<{
  path: string;
  source: string;
  env?: Record<string, string>;
}> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) {
      throw new Error(`CHROMIUM_PATH points at ${configured}, which does not exist.`);
    }
    return { path: configured, source: 'CHROMIUM_PATH' };
  }
  const system = SYSTEM_CHROMIUMS.find((path) => isExecutable(path));
  if (system) return { path: system, source: 'system' };
  try {
    const { default: packaged } = await import('@sparticuz/chromium');
    const path = await packaged.executablePath();
    return { path, source: '@sparticuz/chromium', env: packagedLibraries(path) };
  } catch (err) {
    throw new Error(
      'No Chromium for the browser tests: none of ' +
        `${SYSTEM_CHROMIUMS.join(', ')} is installed and @sparticuz/chromium could not be unpacked ` +
        `(${(err as Error).message}). Run \`npm install\`, or install one with ` +
        '`apt-get install -y chromium`, or point CHROMIUM_PATH at a Chromium binary.',
      { cause: err },
    );
  }
}

/**
 * The packaged Chromium needs NSS and expat from the system; a machine that never had a browser
 * may lack them. The package ships them (for Amazon Linux): unpack them next to the browser and
 * point the loader there, only when the system's are missing.
 */
function packagedLibraries(browser: string): Record<string, string> | undefined {
  const ldd = spawnSync('ldd', [browser], { encoding: 'utf8' });
  if (ldd.status === 0 && !/not found|too short/.test(ldd.stdout + ldd.stderr)) return undefined;
  const dir = join(tmpdir(), 'nest-socketio-chromium-libs');
  if (!existsSync(join(dir, 'lib', 'libnss3.so'))) {
    const entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
    const archive = join(dirname(entry), '..', '..', 'bin', 'al2023.tar.br');
    mkdirSync(dir, { recursive: true });
    const tar = spawnSync('tar', ['-x', '-C', dir], {
      input: brotliDecompressSync(readFileSync(archive)),
    });
    if (tar.status !== 0) throw new Error(`could not unpack ${archive}: ${tar.stderr}`);
  }
  const lib = join(dir, 'lib');
  return {
    LD_LIBRARY_PATH: [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile() && statSync(path).size > 0;
  } catch {
    return false;
  }
}

/**
 * Launches headless Chromium, or fails with a message that says how to install it: a missing
 * browser must never turn into a silently skipped test. `launch()` gives the browser a fresh
 * temporary profile (user-data dir) that Playwright deletes on close.
 */
export async function launchChromium(): Promise<Browser> {
  const { path, env } = await chromiumExecutable();
  return chromium.launch({
    executablePath: path,
    ...(env ? { env: { ...process.env, ...env } as Record<string, string> } : {}),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-page screenshot as test-artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until an element matching `selector` shows `text` (a list item, a status line). */
export async function seeText(page: Page, selector: string, text: string | RegExp): Promise<void> {
  await page.locator(selector, { hasText: text }).first().waitFor({ state: 'visible' });
}

/**
 * One Chromium for a test file, launched by the first test that needs it (not in a hook, so a
 * missing browser fails every test with the reason instead of skipping them), and the browser
 * contexts (each its own cookies, so its own session) opened since the last `closeContexts()`.
 */
export class BrowserPool {
  private browser?: Promise<Browser>;
  private readonly contexts: BrowserContext[] = [];

  async newContext(): Promise<BrowserContext> {
    const context = await (this.browser ??= launchChromium()).then((b) => b.newContext());
    this.contexts.push(context);
    return context;
  }

  async closeContexts(): Promise<void> {
    await Promise.all(this.contexts.splice(0).map((c) => c.close()));
  }

  async close(): Promise<void> {
    await this.closeContexts();
    await this.browser?.then(
      (b) => b.close(),
      () => undefined,
    );
  }
}

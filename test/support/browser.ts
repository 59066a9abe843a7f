import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it with apt-get when it is missing. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots go (gitignored). */
export const ARTIFACTS_DIR = 'test-artifacts';

/**
 * Launches headless Chromium, or fails with a message that says how to install it: a missing
 * browser must never turn into a silently skipped test. `launch()` gives the browser a fresh
 * temporary profile (user-data dir) that Playwright deletes on close.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: the browser tests need it. ` +
        'Install it with `apt-get update && apt-get install -y chromium` (.ci/run does this), ' +
        'or point CHROMIUM_PATH at a Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
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

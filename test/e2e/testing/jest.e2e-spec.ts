// The test client must work under jest too: run the jest suite of test/jest against dist/
// (the end-to-end set-up builds it when it is missing) and check that jest exits by itself, with no open handle.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function runJest(): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--experimental-vm-modules',
        'node_modules/jest/bin/jest.js',
        '-c',
        'test/jest/jest.config.mjs',
        '--detectOpenHandles',
      ],
      { cwd: root, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, 45_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

describe('the test client under jest', () => {
  it('passes and leaves no open handle (jest exits by itself)', async () => {
    expect(existsSync(`${root}dist/testing/index.js`)).toBe(true);
    const { code, output, timedOut } = await runJest();
    expect(timedOut, output).toBe(false);
    expect(code, output).toBe(0);
    expect(output).toMatch(/Tests:\s+2 passed, 2 total/);
    expect(output).not.toMatch(/open handle|did not exit/i);
  });
});

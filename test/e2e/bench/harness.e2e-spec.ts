import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
// Our own build directory, so a run of `npm run bench` at the same time is not disturbed.
const outDir = join(root, `dist-bench-test-${process.pid}`);
const resultsDir = mkdtempSync(join(tmpdir(), 'nest-socketio-bench-'));

const SERVERS = [
  'raw',
  'nest-gateway',
  'nest-socketio',
  'nest-socketio-guarded',
  'nest-socketio-otel',
];
const METRICS = [
  'echo.cpuUsPerMsg',
  'echo.msgPerSec',
  'fanout1k.cpuUsPerDelivery',
  'fanout5k.cpuUsPerDelivery',
  'room.cpuUsPerDelivery',
  'redis.cpuUsPerDelivery',
  'idle.heapBytesPerConn',
  'idle.rssBytesPerConn',
  'connect.cpuUsPerConn',
  'connect.connPerSec',
];

describe('npm run bench (tiny sizes)', () => {
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(resultsDir, { recursive: true, force: true });
  });

  let built: Promise<unknown> | undefined;
  /** Compiles the bench once for the tests of this file. */
  const build = () =>
    (built ??= run(
      process.execPath,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '-p',
        'bench/tsconfig.json',
        '--outDir',
        outDir,
      ],
      { cwd: root },
    ));

  it('measures every server on every workload and writes a well-formed result', async () => {
    await build();
    const out = join(resultsDir, 'tiny.json');
    const { stdout } = await run(
      process.execPath,
      [join(outDir, 'bench/run.js'), '--tiny', '--out', out],
      { cwd: root, timeout: 120_000 },
    );

    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.servers).toEqual(SERVERS);
    expect(Object.keys(result.metrics)).toEqual(METRICS);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.sizes.rounds).toBe(1);
    for (const server of SERVERS) {
      expect(result.rounds[server]).toHaveLength(1);
      for (const metric of METRICS) {
        const median = result.medians[server][metric];
        expect(Number.isFinite(median), `${server} ${metric}`).toBe(true);
        // Memory deltas can be ~0 at tiny sizes; CPU and rates must be real measurements.
        if (!metric.startsWith('idle.')) expect(median, `${server} ${metric}`).toBeGreaterThan(0);
        // A ratio to a memory delta of 0 (tiny sizes) is no number: JSON writes it as null.
        const raw = result.medians.raw[metric];
        if (raw !== 0) expect(result.ratios[server][metric]).toBeCloseTo(median / raw, 9);
      }
    }
    expect(result.ratios.raw['echo.cpuUsPerMsg']).toBe(1);
    expect(typeof result.checks['nest-socketio-guarded'].sessionsLive).toBe('boolean');
    expect(result.targets.map((t: { metric: string }) => t.metric)).toContain('echo.cpuUsPerMsg');
    // The SDK's cost is a ratio to the same server without one.
    expect(result.targets).toContainEqual(
      expect.objectContaining({ kind: 'nest-socketio-otel', target: '<= 1.15 x nest-socketio' }),
    );
    // The table on stdout names every server and shows ratios to raw.
    for (const server of SERVERS) expect(stdout).toContain(server);
    expect(stdout).toMatch(/echo: server CPU per request\+ack .*\(\d+\.\d\dx\)/);
    // A build and four servers: 20-30 s alone, more beside the rest of the suite on two cores.
  }, 180_000);

  it('measures large broadcasts and many idle connections side by side (big, idle15k)', async () => {
    await build();
    const out = join(resultsDir, 'large.json');
    const args = ['--tiny', '--servers', 'raw,nest-socketio', '--sessions', 'big,idle15k'];
    const { stdout } = await run(
      process.execPath,
      [join(outDir, 'bench/run.js'), ...args, '--out', out],
      {
        cwd: root,
        timeout: 120_000,
      },
    );
    const result = JSON.parse(readFileSync(out, 'utf8'));
    const metrics = Object.keys(result.metrics);
    for (const size of ['big5k', 'big15k']) {
      for (const via of ['service', 'server', 'room']) {
        for (const figure of ['blockMs', 'blockCpuMs', 'lastMs']) {
          expect(metrics).toContain(`${size}.${via}.${figure}`);
        }
      }
    }
    for (const m of ['idle15k.heapBytesPerConn', 'idle15k.cpuUsPerConn', 'burst5k.acceptMs']) {
      expect(metrics).toContain(m);
    }
    for (const server of ['raw', 'nest-socketio']) {
      for (const metric of metrics) {
        const median = result.medians[server][metric];
        expect(Number.isFinite(median), `${server} ${metric}`).toBe(true);
        // A time to the last client, CPU and accept times are real measurements.
        if (/lastMs|cpuUs|acceptMs/.test(metric))
          expect(median, `${server} ${metric}`).toBeGreaterThan(0);
      }
    }
    expect(result.targets.map((t: { metric: string }) => t.metric)).toEqual(
      expect.arrayContaining([
        'big15k.service.blockMs',
        'big15k.room.lastMs',
        'idle15k.heapBytesPerConn',
      ]),
    );
    expect(stdout).toMatch(/emit to 15,000, SocketService\.emit \/ io\.emit: longest loop block/);
  }, 180_000);
});

import { describe, expect, it } from 'vitest';
import { UnsafeConfigurationError } from 'nest-socketio';
import {
  checkProductionSafety,
  findUnsafeSettings,
} from '../../../lib/guards/production-safety.check.js';

const silent = { log() {}, error() {}, warn() {} };
const production = (isClusterWorker: boolean, env: Record<string, string> = {}) => ({
  isClusterWorker,
  env: { NODE_ENV: 'production', ...env },
});

describe('the production safety check: node cluster workers', () => {
  it('refuses a cluster worker without a messageQueue', async () => {
    const check = checkProductionSafety({}, silent, undefined, production(true));
    await expect(check).rejects.toBeInstanceOf(UnsafeConfigurationError);
    await expect(check).rejects.toThrow(
      'messageQueue: is not set, but this process is a node cluster worker',
    );
  });

  it('accepts a cluster worker with a messageQueue or an adapter', async () => {
    expect(
      await findUnsafeSettings({ messageQueue: 'redis://x:6379' }, undefined, production(true)),
    ).toEqual([]);
    expect(
      await findUnsafeSettings({ adapter: () => undefined }, undefined, production(true)),
    ).toEqual([]);
  });

  it('accepts a single pm2 cluster instance and a primary process', async () => {
    expect(await findUnsafeSettings({}, undefined, production(true, { instances: '1' }))).toEqual(
      [],
    );
    expect(
      await findUnsafeSettings({}, undefined, production(false, { NODE_APP_INSTANCE: '0' })),
    ).toEqual([]);
  });

  it('does nothing outside production', async () => {
    await expect(
      checkProductionSafety({ cors: '*' }, silent, undefined, { isClusterWorker: true, env: {} }),
    ).resolves.toBeUndefined();
  });
});

describe('the production safety check: the admin UI', () => {
  it('refuses adminUi without auth, and accepts it with auth', async () => {
    const check = checkProductionSafety(
      { adminUi: { auth: false } },
      silent,
      undefined,
      production(false),
    );
    await expect(check).rejects.toThrow(
      'adminUi: serves the Socket.IO admin UI without authentication',
    );
    expect(
      await findUnsafeSettings(
        {
          adminUi: {
            auth: {
              username: 'ops',
              password: '$2b$04$abcdefghijklmnopqrstuuJ0PnmVhvSH4lJrU0AC2j7HvQ8UC2Hve',
            },
          },
        },
        undefined,
        production(false),
      ),
    ).toEqual([]);
  });
});

const hostileAllowed = async (cors: unknown) =>
  (await findUnsafeSettings({ cors } as never, undefined, production(false)))[0]?.problem;

describe('the production safety check: origins that only look narrow', () => {
  it.each([
    ['an unanchored RegExp', /example\.com/, 'https://evilexample.com'],
    [
      'a RegExp without its end anchor',
      /^https:\/\/example\.com/,
      'https://example.com.evil.invalid',
    ],
    ['a suffix RegExp without a dot', /example\.com$/, 'https://evilexample.com'],
    ["the string 'null'", ['https://app.example.com', 'null'], 'null'],
    [
      'a function checking endsWith',
      {
        origin: (o: string, cb: (e: null, ok: boolean) => void) =>
          cb(null, o.endsWith('example.com')),
      },
      'https://evilexample.com',
    ],
  ])('refuses %s', async (_, cors, origin) => {
    expect(await hostileAllowed(cors)).toContain(`lets in the origin ${origin}`);
  });

  it.each([
    ['exact origins', ['https://app.example.com', 'https://admin.example.com']],
    ['an anchored RegExp', /^https:\/\/(app|admin)\.example\.com$/],
    ['subdomains of one domain', /^https:\/\/[a-z]+\.example\.org$/],
    [
      'a function with a list',
      {
        origin: (o: string, cb: (e: null, ok: boolean) => void) =>
          cb(null, ['https://app.example.com'].includes(o)),
      },
    ],
  ])('accepts %s', async (_, cors) => {
    expect(await hostileAllowed(cors)).toBeUndefined();
  });
});

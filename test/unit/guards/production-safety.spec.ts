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

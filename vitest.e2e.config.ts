import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared.js';

// End-to-end tests: real servers on port 0, real socket.io clients, real Redis and Postgres.
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/e2e/**/*.e2e-spec.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest-results-e2e.json' }]],
  },
});

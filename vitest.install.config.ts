import { defineConfig } from 'vitest/config';

// The packed package in fresh apps installed from the npm registry (needs the network).
export default defineConfig({
  test: {
    include: ['test/install/**/*.install-spec.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 600_000,
    reporters: ['default', ['json', { outputFile: '.vitest-results-install.json' }]],
  },
});

import { defineConfig } from 'vitest/config';
import { alias } from './vitest.shared.js';

// Unit tests: fast and in-process.
export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/unit/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', ['json', { outputFile: '.vitest-results-unit.json' }]],
  },
});

import { defineConfig } from 'vitest/config';

// End-to-end tests: the real `karakoram serve` (engine + demo model) driven through Debian's
// Chromium, and Electron where its binary exists. One file at a time, generous timeouts: the
// engine loads a model and generates on a shared CPU.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    maxWorkers: 1,
    pool: 'forks',
  },
});

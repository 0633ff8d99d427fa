import { defineConfig } from 'vitest/config';

// Unit tests: main/ and common/ in Node, app/ components in jsdom (per-file `@vitest-environment`).
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

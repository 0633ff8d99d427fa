import { defineConfig } from 'vitest/config';

// Unit tests: main/ and common/ in Node, app/ components in jsdom (per-file `@vitest-environment`).
// test/unit mirrors the source tree: tests for main/<folder>/x.ts live in test/unit/<folder>/,
// for common/ in test/unit/common/, for app/ in test/unit/app/; test/unit/repo/ checks the repo's rules.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

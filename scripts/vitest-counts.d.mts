// Types of vitest-counts.mjs for the TypeScript tests that import it.
export interface VitestCounts { passed: number; failed: number; skipped: number; failures: string[] }
export function vitestCounts(report: unknown, label: string): VitestCounts;

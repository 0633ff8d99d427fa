// The counts `npm test` closes with, read from a vitest JSON report (--reporter=json).
// A file that failed without a failed test did not load, or a hook threw (a beforeAll that needs
// the engine, say) and vitest then reports its tests as skipped: that is one failure, and those
// tests are not skips — the closing line's skip count is only for what the machine cannot have.

/** { passed, failed, skipped, failures: string[] } of one report; label prefixes the failures. */
export function vitestCounts(report, label) {
  const c = { passed: report.numPassedTests, failed: report.numFailedTests, skipped: report.numPendingTests + (report.numTodoTests ?? 0), failures: [] };
  for (const f of report.testResults ?? []) {
    const results = f.assertionResults ?? [];
    for (const a of results) if (a.status === 'failed') c.failures.push(`${label}: ${a.fullName}`);
    if (f.status === 'failed' && !results.some((a) => a.status === 'failed')) {
      c.failed += 1;
      c.skipped -= results.filter((a) => a.status === 'pending' || a.status === 'skipped' || a.status === 'todo').length;
      c.failures.push(`${label}: ${f.name} (${results.length ? 'a hook failed' : 'suite failed to run'}: ${String(f.message ?? '').split('\n')[0]})`);
    }
  }
  return c;
}

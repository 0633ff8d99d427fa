// Tests that need what the repo has fail loudly without it: chat.test.ts and host.test.ts run in a
// child vitest with KARAKORAM_ADDON naming no file (the engine "not built"), and npm test's counts
// (scripts/vitest-counts.mjs) must show failures that name the missing engine, and no skips.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vitestCounts } from '../../../scripts/vitest-counts.mjs';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'kk-loud-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The child's environment: ours without vitest's own variables (they would make it a worker). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_ENV' && k !== 'TEST'));
  return { ...env, ...extra };
}

describe('engine tests without the engine', () => {
  it('chat.test.ts and host.test.ts fail, naming the missing engine, and count no skips', () => {
    const out = join(tmp, 'report.json');
    const files = ['test/unit/services/chat.test.ts', 'test/unit/host/host.test.ts'];
    spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...files, '--reporter=json', `--outputFile=${out}`],
      { cwd: ROOT, env: childEnv({ KARAKORAM_ADDON: join(tmp, 'no-such-addon.node') }), stdio: 'ignore', timeout: 120_000 });
    const c = vitestCounts(JSON.parse(readFileSync(out, 'utf8')), 'unit');
    expect(c.skipped).toBe(0);
    expect(c.failed).toBe(2);   // chat.test's beforeAll, host.test's mid-generation kill
    expect(c.failures.join('\n')).toMatch(/chat\.test\.ts \(a hook failed: the native engine is not built/);
    expect(c.failures.join('\n')).toMatch(/engine host kill -9 mid-generation/);
    expect(c.passed).toBe(2);   // host.test's two cases that need no model still run
  }, 150_000);
});

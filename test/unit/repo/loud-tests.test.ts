// Tests that need what the repo has fail loudly without it: chat.test.ts and host.test.ts run in a
// child vitest with KARAKORAM_ADDON naming no file (the engine "not built"), and npm test's counts
// (scripts/vitest-counts.mjs) must show failures that name the missing engine, and no skips.
// And no test file may skip on its own except for what a machine cannot have (the list below).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** The test files allowed a skip, and what the machine lacks there. */
const ALLOWED_SKIPS: Record<string, string> = {
  'test/e2e/electron.test.ts': 'the Electron binary (an optional dependency whose download can fail)',
};
/** vitest's ways to skip: .skip / .skipIf / .runIf / .todo, and ctx.skip() inside a test. */
const SKIP_CALL = /\.(skip|skipIf|runIf|todo)\s*\(|\b(ctx|context|t)\.skip\s*\(/;

function testFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : testFiles(rel);
    return /\.(ts|tsx)$/.test(e.name) ? [rel] : [];
  });
}

describe('skips', () => {
  it('only the files in ALLOWED_SKIPS skip, each for what the machine cannot have', () => {
    const skipping = testFiles('test').filter((f) => f !== 'test/unit/repo/loud-tests.test.ts' && SKIP_CALL.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(skipping.sort()).toEqual(Object.keys(ALLOWED_SKIPS).sort());
  });
  it('the pattern catches each way to skip', () => {
    for (const code of ['describe.skipIf(!built)(', 'it.skip(', "it.runIf(x)('a'", 'ctx.skip(why)', 'test.todo(']) expect(code).toMatch(SKIP_CALL);
    expect('const skipped = 1; // skips files already complete').not.toMatch(SKIP_CALL);
  });
});

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

#!/usr/bin/env node
// `npm test`: builds what the tests need, runs every suite of the project, and closes with one
// summary line `test: N passed, N failed, N skipped`. Exit code 0 only when nothing failed.
//   KK_TEST_ONLY=native,unit,e2e,asan   run a subset (comma separated)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vitestCounts } from './vitest-counts.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.env.KK_TEST_ONLY ? new Set(process.env.KK_TEST_ONLY.split(',')) : null;
const jobs = String(Math.max(1, Number(process.env.KK_JOBS) || 2));
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function run(cmd, args, opts = {}) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

function step(name, fn) {
  if (only && !only.has(name)) return;
  console.log(`\n=== ${name}`);
  try {
    fn();
  } catch (e) {
    totals.failed += 1;
    failures.push(`${name}: ${e.message}`);
  }
}

function cmakeBuild(dir, extra) {
  mkdirSync(join(root, dir), { recursive: true });
  if (run('cmake', ['-S', '.', '-B', dir, '-DCMAKE_BUILD_TYPE=Release', ...extra]) !== 0) throw new Error(`cmake configure ${dir}`);
  if (run('cmake', ['--build', dir, '-j', jobs]) !== 0) throw new Error(`cmake build ${dir}`);
}

// ctest's JUnit file gives exact counts; skipped = exit code 77 (SKIP_RETURN_CODE).
function ctest(dir, regex) {
  const junit = join(root, dir, 'ctest-junit.xml');
  const args = ['--test-dir', dir, '--output-on-failure', '--output-junit', junit, '-j', jobs];
  if (regex) args.push('-R', regex);
  run('ctest', args);
  if (!existsSync(junit)) throw new Error(`ctest in ${dir} wrote no report`);
  const xml = readFileSync(junit, 'utf8');
  for (const m of xml.matchAll(/<testcase name="([^"]+)"[^>]*status="(\w+)"/g)) {
    if (m[2] === 'run') totals.passed += 1;
    else if (m[2] === 'notrun' || m[2] === 'disabled') totals.skipped += 1;
    else { totals.failed += 1; failures.push(`ctest ${dir}: ${m[1]}`); }
  }
}

function vitest(config, label) {
  const out = join(root, 'build', `vitest-${label}.json`);
  mkdirSync(dirname(out), { recursive: true });
  run('npx', ['vitest', 'run', '--config', config, '--reporter=default', '--reporter=json', `--outputFile=${out}`]);
  if (!existsSync(out)) throw new Error(`vitest ${label} wrote no report`);
  const c = vitestCounts(JSON.parse(readFileSync(out, 'utf8')), label);
  totals.passed += c.passed;
  totals.failed += c.failed;
  totals.skipped += c.skipped;
  failures.push(...c.failures);
}

// A fresh machine may lack the system packages (cmake, nlohmann-json, chromium): install them.
step('system', () => { if (run('bash', ['scripts/install-system-deps.sh']) !== 0) throw new Error('system packages missing (see above)'); });
// Where nvcc exists (CI has it, without a GPU) the CUDA plugin is built too, so its code is
// compiled on every run; its GPU test then skips with the reason, and test_cuda_emu runs the same
// kernels on the CPU emulator either way.
const nvcc = spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;
step('native', () => { cmakeBuild('build/native', nvcc ? ['-DKK_CUDA=ON'] : []); ctest('build/native'); });
step('asan', () => { cmakeBuild('build/asan', ['-DKK_ASAN=ON']); ctest('build/asan', 'test_loader|test_kv_fuzz'); });
step('addon', () => { if (run('npm', ['run', 'build:native']) !== 0) throw new Error('addon build'); });
// Lint and types count as one test each: ESLint (with the layering rule) and tsc --strict.
step('lint', () => {
  for (const [label, args] of [['eslint', ['eslint', '.']], ['tsc', ['tsc', '-p', 'tsconfig.json', '--noEmit']]]) {
    if (run('npx', args) === 0) totals.passed += 1;
    else { totals.failed += 1; failures.push(`lint: ${label}`); }
  }
});
step('unit', () => vitest('vitest.config.ts', 'unit'));
step('e2e', () => vitest('test/e2e/vitest.config.ts', 'e2e'));

if (failures.length) console.log(`\nFailures:\n  ${failures.join('\n  ')}`);
console.log(`\ntest: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed === 0 && totals.passed > 0 ? 0 : 1);

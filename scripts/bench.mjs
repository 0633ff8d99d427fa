#!/usr/bin/env node
// `npm run bench`: the engine benchmark on a synthetic model, the tokenizer benchmark and the
// office server's HTTP benchmark (`karakoram bench --office`: the demo model served, 1 / 4 / 16
// concurrent clients), in one run, each printing its JSON object. Arguments pass through to the
// engine's `karakoram bench`
// (default: --synthetic tiny; e.g. `npm run bench -- --synthetic k2:layers=2 --threads 2`).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const engineArgs = args.length ? args : ['--synthetic', 'tiny', '--prompt-len', '64', '--gen', '16'];
let status = 0;
for (const [label, cmd, argv] of [
  ['engine', process.execPath, [join(root, 'bin/karakoram.js'), 'bench', ...engineArgs]],
  ['tokenizer', 'npx', ['tsx', join(root, 'scripts/bench-tokenizer.ts')]],
  ['office', process.execPath, [join(root, 'bin/karakoram.js'), 'bench', '--office']],
]) {
  console.log(`# ${label}: ${[cmd === process.execPath ? 'node' : cmd, ...argv].join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  status ||= r.status ?? 1;
}
process.exit(status);

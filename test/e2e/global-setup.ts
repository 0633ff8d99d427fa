// global-setup.ts — the e2e tests drive the renderer as it is in this checkout: build it once.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  const r = spawnSync('npm', ['run', 'build:app'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build:app failed:\n${r.stdout}\n${r.stderr}`);
}

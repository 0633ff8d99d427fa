// `npm run build` / `npm start` build the CUDA plugin when nvcc is present (scripts/build-cuda-plugin.mjs):
// the decision with injected look-ups, and the build itself against a fake cmake on PATH (it
// records its arguments and writes the plugin file), so we check what runs, where the plugin
// lands (beside the addon, where the engine's loader looks) and what is said when it is skipped.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCudaPlugin, cudaPluginPlan } from '../../../scripts/build-cuda-plugin.mjs';


const tmp = mkdtempSync(join(tmpdir(), 'kk-cudaplugin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('whether the CUDA plugin is built', () => {
  it('nvcc on PATH: builds with it', () => {
    const plan = cudaPluginPlan({ env: {}, platform: 'linux', find: (c: string) => (c === 'nvcc' ? '/opt/cuda/bin/nvcc' : null) });
    expect(plan).toEqual({ build: true, nvcc: '/opt/cuda/bin/nvcc' });
  });
  it('no nvcc: skipped, saying so', () => {
    const plan = cudaPluginPlan({ env: {}, platform: 'linux', find: () => null });
    expect(plan.build).toBe(false);
    expect(plan.build ? '' : plan.why).toBe('nvcc (the CUDA toolkit) is not on PATH');
  });
  it('KARAKORAM_NO_CUDA, another platform, a CUDACXX that is not there: skipped with each reason', () => {
    const find = () => '/usr/bin/nvcc';
    expect(cudaPluginPlan({ env: { KARAKORAM_NO_CUDA: '1' }, platform: 'linux', find })).toMatchObject({ build: false, why: 'KARAKORAM_NO_CUDA is set' });
    expect(cudaPluginPlan({ env: {}, platform: 'darwin', find })).toMatchObject({ build: false, why: expect.stringContaining('Linux only (this is darwin)') });
    expect(cudaPluginPlan({ env: { CUDACXX: join(tmp, 'nope') }, platform: 'linux', find })).toMatchObject({ build: false, why: expect.stringContaining('does not exist') });
  });
});

describe('building it', () => {
  /** A fake cmake: logs its arguments; on --build writes the plugin into the build folder. */
  function fakeCmake(rc: number) {
    const dir = join(tmp, `bin${rc}`);
    mkdirSync(dir, { recursive: true });
    const log = join(dir, 'calls.log');
    writeFileSync(join(dir, 'cmake'), `#!/bin/sh
echo "cmake $*" >> ${log}
[ ${rc} = 0 ] || exit ${rc}
if [ "$1" = --build ]; then echo plugin > "$2/libkk_cuda.so"; fi
`);
    chmodSync(join(dir, 'cmake'), 0o755);
    return { env: { PATH: `${dir}:/usr/bin:/bin` }, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
  }

  it('configures with -DKK_CUDA=ON in its own folder, builds only kk_cuda, copies it beside the addon', () => {
    const root = mkdtempSync(join(tmp, 'root-'));
    const cm = fakeCmake(0);
    const lines: string[] = [];
    const r = buildCudaPlugin(root, { env: cm.env, log: (s: string) => lines.push(s), plan: { build: true, nvcc: '/x/nvcc' } });
    expect(r.ok && r.built).toBe(true);
    const calls = cm.calls();
    expect(calls[0]).toContain(`-B ${join(root, 'build', 'cuda-plugin')}`);
    expect(calls[0]).toContain('-DKK_CUDA=ON');
    expect(calls[0]).toContain('-DCMAKE_CUDA_COMPILER=/x/nvcc');
    expect(calls[1]).toContain('--target kk_cuda');
    expect(readFileSync(join(root, 'build', 'addon', 'Release', 'libkk_cuda.so'), 'utf8')).toBe('plugin\n');
    expect(lines.at(-1)).toContain('CUDA plugin: built');
  });

  it('a failing CUDA build is reported and leaves no plugin (the CPU engine is unaffected)', () => {
    const root = mkdtempSync(join(tmp, 'root-'));
    const cm = fakeCmake(3);
    const lines: string[] = [];
    const r = buildCudaPlugin(root, { env: cm.env, log: (s: string) => lines.push(s), plan: { build: true, nvcc: '/x/nvcc' } });
    expect(r).toMatchObject({ ok: false, built: false });
    expect(lines.at(-1)).toContain('CUDA plugin: not built');
    expect(existsSync(join(root, 'build', 'addon', 'Release', 'libkk_cuda.so'))).toBe(false);
  });

  it('skipped: one line with the reason, nothing run', () => {
    const lines: string[] = [];
    const r = buildCudaPlugin(tmp, { log: (s: string) => lines.push(s), plan: { build: false, why: 'nvcc (the CUDA toolkit) is not on PATH' } });
    expect(r).toMatchObject({ ok: true, built: false });
    expect(lines).toEqual(['CUDA plugin: skipped — nvcc (the CUDA toolkit) is not on PATH; the engine will run on the CPU.']);
  });
});

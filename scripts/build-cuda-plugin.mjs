#!/usr/bin/env node
// `npm run build:cuda` (part of `npm run build`, and of `npm start`'s first build): builds the CUDA
// plugin (libkk_cuda.so, kernels/ only) when nvcc is present, and puts it beside the addon
// (build/addon/Release), where the engine's loader looks for it. The plugin is optional: without
// nvcc this says so and why, and the engine runs on the CPU. It has its own cmake build folder
// (build/cuda-plugin) so a CUDA toolchain problem never breaks the CPU engine's build.
//   KARAKORAM_NO_CUDA=1   skip it on purpose          CUDACXX=/path/nvcc   use that nvcc
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the addon lives after `npm run build:native` (cmake-js --out build/addon). */
export const ADDON_DIR = join('build', 'addon', 'Release');
/** The plugin's own cmake build folder. */
export const PLUGIN_BUILD_DIR = join('build', 'cuda-plugin');
export const PLUGIN_FILE = 'libkk_cuda.so';

function onPath(cmd, env) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { env, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Whether to build the plugin here: { build: true, nvcc } or { build: false, why }.
 *   find  looks a command up on PATH (injected in tests)
 */
export function cudaPluginPlan({ env = process.env, platform = process.platform, find = (c) => onPath(c, env) } = {}) {
  if (env.KARAKORAM_NO_CUDA) return { build: false, why: 'KARAKORAM_NO_CUDA is set' };
  if (platform !== 'linux') return { build: false, why: `the CUDA plugin is built on Linux only (this is ${platform})` };
  if (env.CUDACXX) {
    if (existsSync(env.CUDACXX)) return { build: true, nvcc: env.CUDACXX };
    return { build: false, why: `CUDACXX=${env.CUDACXX} does not exist` };
  }
  const nvcc = find('nvcc');
  if (!nvcc) return { build: false, why: 'nvcc (the CUDA toolkit) is not on PATH' };
  return { build: true, nvcc };
}

/**
 * Builds the plugin when the plan says so. Returns { built, why, path }: built false with the
 * reason when skipped (ok: true) or failed (ok: false).
 */
export function buildCudaPlugin(root, { env = process.env, log = console.log, plan = cudaPluginPlan({ env }) } = {}) {
  if (!plan.build) {
    log(`CUDA plugin: skipped — ${plan.why}; the engine will run on the CPU.`);
    return { ok: true, built: false, why: plan.why };
  }
  log(`CUDA plugin: building ${PLUGIN_FILE} with ${plan.nvcc} (cmake -DKK_CUDA=ON, ${PLUGIN_BUILD_DIR})…`);
  const dir = join(root, PLUGIN_BUILD_DIR);
  mkdirSync(dir, { recursive: true });
  const jobs = String(Math.max(1, Number(env.KK_JOBS) || 2));
  const steps = [
    ['cmake', ['-S', root, '-B', dir, '-DCMAKE_BUILD_TYPE=Release', '-DKK_CUDA=ON', '-DKK_BUILD_TESTS=OFF', `-DCMAKE_CUDA_COMPILER=${plan.nvcc}`]],
    ['cmake', ['--build', dir, '--target', 'kk_cuda', '-j', jobs]],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
    if (r.status !== 0) {
      const why = `\`${cmd} ${args.join(' ')}\` failed (see above)`;
      log(`CUDA plugin: not built — ${why}; the engine will run on the CPU.`);
      return { ok: false, built: false, why };
    }
  }
  const out = join(root, ADDON_DIR);
  mkdirSync(out, { recursive: true });
  copyFileSync(join(dir, PLUGIN_FILE), join(out, PLUGIN_FILE));
  log(`CUDA plugin: built, ${join(ADDON_DIR, PLUGIN_FILE)} (the app uses it when a CUDA driver and device are found).`);
  return { ok: true, built: true, path: join(out, PLUGIN_FILE) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  process.exit(buildCudaPlugin(root).ok ? 0 : 1);
}

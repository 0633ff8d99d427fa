// The engine is a native addon that npm install does not build: `npm start` builds it on first
// start. It first runs the same system-package step as `npm test` (scripts/install-system-deps.sh
// --build: cmake, g++, make, nlohmann-json3-dev), so a fresh Debian/Ubuntu machine with only Node
// gets a working engine; where the packages cannot be installed that script names the exact
// command, and the build is not attempted (its cmake error would only repeat it less clearly).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ADDON_DIR, PLUGIN_BUILD_DIR, PLUGIN_FILE, buildCudaPlugin } from './build-cuda-plugin.mjs';

/** Whether the addon is already built under root (either build type). */
export function engineBuilt(root) {
  return ['Release', 'Debug'].some((c) => existsSync(join(root, 'build', 'addon', c, 'karakoram_node.node')));
}

/**
 * Builds the engine when it is not built. Returns { ok, why }: ok false with the reason when the
 * app will start without an engine (it then shows the error in the page).
 *   depsScript  the system-package script (default: this repo's)
 */
export function ensureEngine(root, { env = process.env, log = console.log, depsScript = join(root, 'scripts', 'install-system-deps.sh') } = {}) {
  if (env.KARAKORAM_ADDON) return { ok: true };
  if (engineBuilt(root)) {
    // Built before the plugin existed (or before nvcc was installed): build it once; a failed
    // attempt leaves its build folder, so it is not retried on every start.
    if (!existsSync(join(root, ADDON_DIR, PLUGIN_FILE)) && !existsSync(join(root, PLUGIN_BUILD_DIR))) buildCudaPlugin(root, { env, log });
    return { ok: true };
  }
  if (process.platform === 'linux') {
    log('Checking the system packages the engine build needs (scripts/install-system-deps.sh --build)…');
    const deps = spawnSync('bash', [depsScript, '--build'], { cwd: root, env, stdio: 'inherit' });
    if (deps.status !== 0) {
      const why = 'the system packages the engine needs are missing (the command to install them is above)';
      log(`The engine was not built: ${why}. The app will start and show the error; run npm start again once they are installed.`);
      return { ok: false, why };
    }
  }
  log('Building the native engine (npm run build:native, a few minutes the first time)…');
  if (spawnSync('npm', ['run', 'build:native'], { cwd: root, env, stdio: 'inherit' }).status !== 0) {
    const why = 'npm run build:native failed (see above; it needs cmake, a C++17 compiler and nlohmann-json 3)';
    log(`The engine did not build: ${why}. The app will start and show the error.`);
    return { ok: false, why };
  }
  // Optional: a plugin that does not build leaves the CPU engine working (it says why).
  buildCudaPlugin(root, { env, log });
  return { ok: true };
}

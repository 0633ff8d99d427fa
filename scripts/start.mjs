#!/usr/bin/env node
// `npm start`: opens Karakoram. With Electron installed (an optional dependency whose binary
// download can fail), the desktop app; otherwise web mode — `karakoram serve` — opened in the
// browser, saying why. Extra arguments go to `karakoram serve` (e.g. npm start -- --port 9000).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEngine } from './ensure-engine.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);

/** The Electron binary's path, or null with the reason. */
function findElectron() {
  try {
    const p = createRequire(join(root, 'package.json'))('electron');
    if (typeof p === 'string' && existsSync(p)) return { path: p };
    return { path: null, why: 'the electron package has no binary' };
  } catch (e) {
    return { path: null, why: /Cannot find module/.test(String(e)) ? 'the electron package is not installed (its binary download failed or was skipped)' : String(e.message ?? e) };
  }
}

function ensureRenderer() {
  if (existsSync(join(root, 'dist', 'app', 'index.html'))) return true;
  if (!existsSync(join(root, 'app', 'vite.config.ts'))) { console.log('The renderer sources (app/) are missing.'); return false; }
  console.log('Building the renderer (npm run build:app)…');
  return spawnSync('npm', ['run', 'build:app'], { cwd: root, stdio: 'inherit' }).status === 0;
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

ensureEngine(root);
const electron = findElectron();
if (electron.path && !process.env.KARAKORAM_WEB) {
  ensureRenderer();
  const child = spawn(electron.path, ['.', ...args], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  const why = process.env.KARAKORAM_WEB ? 'KARAKORAM_WEB is set' : electron.why;
  if (!ensureRenderer()) console.log('The renderer did not build; the server will say so in the page.');
  const child = spawn(process.execPath, [join(root, 'bin', 'karakoram.js'), 'serve', '--no-build', ...args], { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
  let buf = '';
  child.stdout.on('data', (d) => {
    process.stdout.write(d);
    buf += d;
    const m = /Karakoram serving on (\S+)/.exec(buf);
    if (m && buf !== null) {
      buf = null;
      const url = m[1];
      console.log(`\nElectron is unavailable (${why}), so Karakoram opened in web mode: ${url}`);
      const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? null : 'xdg-open';
      if (opener && which(opener) && (process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
        spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
      } else if (process.platform === 'win32') {
        spawn('cmd', ['/c', 'start', '', url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
      } else {
        console.log('Open that address in a browser.');
      }
    }
    if (buf !== null && buf.length > 65536) buf = buf.slice(-4096);
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}

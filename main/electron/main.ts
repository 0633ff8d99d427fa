// main.ts — the Electron main process: one sandboxed window on the built renderer (dist/app,
// served from the app:// scheme with a strict CSP), the core in this process, and the engine in
// an Electron utilityProcess so a native fault never takes the window down. The renderer reaches
// the core only through the preload's verbs (contextIsolation, sandbox, no Node).
import { join } from 'node:path';
import { IPC_EVENT_CHANNEL, IPC_REQUEST_CHANNEL } from '../../common/contract.ts';
import { RENDERER_DIR, REPO_ROOT } from '../paths.ts';
import { ENGINE_ENTRY, type EngineProcess, type EngineSpawner } from '../host/spawn.ts';
import type { FromEngine } from '../host/protocol.ts';
import { Core } from '../services/core.ts';
import { defaultDataDir } from '../store/paths.ts';
import { serveApp } from './app-protocol.ts';
import { buildPreload } from './preload-build.ts';
import type { BrowserWindowInstance, ElectronMain } from './electron-api.ts';

const APP_SCHEME = 'app';
const APP_ORIGIN = `${APP_SCHEME}://karakoram`;
const PRELOAD_OUT = join(REPO_ROOT, 'build', 'electron', 'preload.cjs');
const WINDOW = { width: 1280, height: 860, minWidth: 720, minHeight: 480 };

/** Electron is an optional dependency: imported by a computed name so type-checking never needs it. */
async function loadElectron(): Promise<ElectronMain> {
  const name = 'electron';
  const mod = (await import(name)) as ElectronMain & { default?: ElectronMain };
  return mod.default ?? mod;
}

function utilitySpawner(electron: ElectronMain): EngineSpawner {
  return () => {
    const child = electron.utilityProcess.fork(ENGINE_ENTRY, [], { serviceName: 'Karakoram engine', stdio: 'inherit' });
    let exited = false;
    child.on('exit', () => { exited = true; });
    const proc: EngineProcess = {
      get pid() { return child.pid ?? null; },
      send(msg) { if (!exited) child.postMessage(msg); },
      onMessage(cb) { child.on('message', (m) => cb(m as FromEngine)); },
      // utilityProcess reports only a code; a crash shows as a non-zero code.
      onExit(cb) { child.on('exit', (code) => cb(code, null)); },
      kill() { if (!exited) child.kill(); },
    };
    return proc;
  };
}

async function main(): Promise<void> {
  const electron = await loadElectron();
  const { app, BrowserWindow, ipcMain, protocol, session, shell } = electron;
  // The app:// scheme was registered as privileged in entry.mjs, before the app was ready.
  await app.whenReady();

  // The same database as web mode (`karakoram serve`), so both see the same conversations.
  const dataDir = defaultDataDir();
  const core = new Core({ dataDir, modelDir: process.env.KARAKORAM_MODEL, spawner: utilitySpawner(electron) });
  const preload = await buildPreload(PRELOAD_OUT);

  protocol.handle(APP_SCHEME, (req) => serveApp(RENDERER_DIR, req.url));
  // No camera, microphone, notifications, geolocation...: the app needs none.
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  // Requests only from our own frames.
  ipcMain.handle(IPC_REQUEST_CHANNEL, (e, method, params) => {
    if (!e.senderFrame || !e.senderFrame.url.startsWith(`${APP_ORIGIN}/`)) {
      return { kind: 'response', id: 0, ok: false, error: { code: 'bad_request', message: 'request from a foreign frame' } };
    }
    return core.handle(0, String(method), params);
  });
  const windows = new Set<BrowserWindowInstance>();
  core.bus.subscribe((event, payload) => {
    for (const w of windows) if (!w.isDestroyed() && !w.webContents.isDestroyed()) w.webContents.send(IPC_EVENT_CHANNEL, event, payload);
  });

  app.on('web-contents-created', (_e, wc) => {
    // No navigation away from the app and no new windows; http(s) links open in the browser.
    wc.on('will-navigate', (ev, url) => { if (!url.startsWith(`${APP_ORIGIN}/`)) ev.preventDefault(); });
    wc.setWindowOpenHandler(({ url }) => {
      if (/^https?:\/\//.test(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });

  const createWindow = () => {
    const win = new BrowserWindow({
      ...WINDOW, show: false, title: 'Karakoram', backgroundColor: '#101114',
      webPreferences: { preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, allowRunningInsecureContent: false, spellcheck: false },
    });
    windows.add(win);
    win.on('ready-to-show', () => win.show());
    win.on('closed', () => windows.delete(win));
    win.webContents.on('render-process-gone', (_e, d) => console.error(`karakoram: renderer gone (${d.reason})`));
    void win.loadURL(`${APP_ORIGIN}/index.html`);
  };

  core.start();
  createWindow();
  app.on('activate', () => { if (BrowserWindow.getAllWindows().length === 0) createWindow(); });
  app.on('window-all-closed', () => { if (process.platform !== 'darwin') app.quit(); });
  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    core.shutdown().finally(() => app.quit());
  });
}

main().catch((e) => {
  console.error('karakoram: failed to start', e);
  process.exit(1);
});

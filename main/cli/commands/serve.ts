// karakoram serve [--host 127.0.0.1] [--port N] [--model DIR] [--data-dir DIR] [--no-build]
// Web mode: the renderer over HTTP and the contract over a WebSocket. Prints
// "Karakoram serving on http://HOST:PORT" once it accepts connections (tests wait for it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../engine/native.ts';
import { startServer } from '../../server/server.ts';
import { Core } from '../../services/core.ts';
import { defaultDataDir } from '../../store/paths.ts';
import { intOpt, parse } from '../args.ts';

export const DEFAULT_PORT = 7860;
export const APP_DIR = join(REPO_ROOT, 'dist', 'app');

/** Builds the renderer with Vite when dist/app is missing; returns false when it cannot. */
export function ensureRendererBuilt(log: (s: string) => void): boolean {
  if (existsSync(join(APP_DIR, 'index.html'))) return true;
  if (!existsSync(join(REPO_ROOT, 'app', 'vite.config.ts'))) {
    log('karakoram serve: the renderer (app/) is not in this checkout; serving the API only');
    return false;
  }
  log('karakoram serve: building the renderer (npm run build:app)…');
  const r = spawnSync('npm', ['run', 'build:app'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) { log('karakoram serve: the renderer build failed; run `npm run build:app` to see why'); return false; }
  return true;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    model: { type: 'string' },
    'data-dir': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'no-model': { type: 'boolean', default: false },
  });
  const port = intOpt(values.port, 'port', DEFAULT_PORT);
  if (port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${port}`);
  if (values.model && !existsSync(join(values.model, 'config.json'))) throw new Error(`--model ${values.model}: no config.json there`);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (!values['no-build']) ensureRendererBuilt(log);

  // A bug in one request must not take the server (and everyone's chats) down: log and go on.
  process.on('unhandledRejection', (e) => log(`karakoram serve: unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
  const core = new Core({ dataDir: values['data-dir'] ?? defaultDataDir(), modelDir: values.model, noModel: values['no-model'] });
  if (core.store.recovered) log(`karakoram serve: recovered ${core.store.recovered} message(s) cut off by the last shutdown`);
  const srv = await startServer(core, { host: values.host, port, appDir: APP_DIR });
  core.start();
  process.stdout.write(`Karakoram serving on ${srv.url}\n`);
  if (values.host !== '127.0.0.1' && values.host !== 'localhost' && values.host !== '::1') {
    log('karakoram serve: warning: listening beyond this machine with no authentication');
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      log('karakoram serve: shutting down');
      srv.close().then(() => core.shutdown()).finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

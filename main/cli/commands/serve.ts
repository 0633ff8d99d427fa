// karakoram serve [--host 127.0.0.1 | --lan] [--port N] [--model DIR] [--data-dir DIR] [--no-build] [--no-model]
//                 [--tls-cert FILE --tls-key FILE] [--max-body-mb N] [--max-running N] [--max-queue N] [--queue-timeout-s N]
//                 [--prefill-chunk N]   (prompt tokens the engine reads per scheduler step; default 512)
//                 [--context-length N]  (sets the context setting; default: what free RAM allows)
// karakoram serve --create-key NAME [--key-models a,b] [--key-concurrency N] [--key-tpm N] [--key-admin]
// karakoram serve --list-keys | --revoke-key ID
// Web mode and the office server: the renderer over HTTP(S), the contract over a WebSocket and
// the OpenAI / Anthropic APIs under /v1. Prints "Karakoram serving on http://HOST:PORT" once it
// accepts connections (tests wait for it). Every route needs a key; the owner key of this run is
// in <data-dir>/owner-key. Binding beyond loopback (--lan, --host 0.0.0.0) needs at least one
// key made with --create-key (or on the Server page).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RENDERER_DIR, REPO_ROOT } from '../../paths.ts';
import { Access } from '../../server/auth/access.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../server/http/body.ts';
import { DEFAULT_QUEUE_LIMITS } from '../../server/queue.ts';
import { checkBind, isLoopback, startServer } from '../../server/server.ts';
import { Core } from '../../services/core.ts';
import { defaultDataDir, openStore } from '../../store/index.ts';
import { intOpt, parse } from '../args.ts';

export const DEFAULT_PORT = 7860;
const LAN_HOST = '0.0.0.0';
const MB = 1024 * 1024;

/** Builds the renderer with Vite when dist/app is missing; returns false when it cannot. */
export function ensureRendererBuilt(log: (s: string) => void): boolean {
  if (existsSync(join(RENDERER_DIR, 'index.html'))) return true;
  if (!existsSync(join(REPO_ROOT, 'app', 'vite.config.ts'))) {
    log('karakoram serve: the renderer (app/) is not in this checkout; serving the API only');
    return false;
  }
  log('karakoram serve: building the renderer (npm run build:app)…');
  const r = spawnSync('npm', ['run', 'build:app'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) { log('karakoram serve: the renderer build failed; run `npm run build:app` to see why'); return false; }
  return true;
}

function positive(v: string | undefined, name: string, dflt: number | null): number | null {
  if (v === undefined) return dflt;
  const n = intOpt(v, name, 0);
  if (n < 1) throw new Error(`--${name} must be at least 1, got ${n}`);
  return n;
}

/** Key management without starting the server: prints the new key once, or the key list. */
function manageKeys(dataDir: string, values: Record<string, string | boolean | undefined>): number {
  const store = openStore(dataDir);
  try {
    const access = new Access(store.keys, dataDir);
    access.dispose();   // no server runs: no owner key
    if (typeof values['create-key'] === 'string') {
      const name = values['create-key'].trim();
      if (!name) throw new Error('--create-key needs a name');
      const models = typeof values['key-models'] === 'string' ? values['key-models'].split(',').map((s) => s.trim()).filter(Boolean) : [];
      const { key, row } = access.createKey({
        name, models, admin: values['key-admin'] === true,
        maxConcurrent: positive(values['key-concurrency'] as string | undefined, 'key-concurrency', null),
        tokensPerMinute: positive(values['key-tpm'] as string | undefined, 'key-tpm', null),
      });
      process.stderr.write(`karakoram serve: created key ${row.id} (${row.name}); it is shown once, store it now:\n`);
      process.stdout.write(`${key}\n`);
      return 0;
    }
    if (typeof values['revoke-key'] === 'string') {
      if (!access.revokeKey(values['revoke-key'])) throw new Error(`no active key with id ${values['revoke-key']}`);
      process.stdout.write(`revoked ${values['revoke-key']}\n`);
      return 0;
    }
    for (const k of store.keys.list()) {
      process.stdout.write(`${k.id}\t${k.revokedAt ? 'revoked' : 'active'}\t${k.name}\tmodels=${k.models.join(',') || '*'}\tconcurrency=${k.maxConcurrent ?? '-'}\ttpm=${k.tokensPerMinute ?? '-'}${k.admin ? '\tadmin' : ''}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    host: { type: 'string' },
    lan: { type: 'boolean', default: false },
    port: { type: 'string' },
    model: { type: 'string' },
    'data-dir': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'no-model': { type: 'boolean', default: false },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'max-body-mb': { type: 'string' },
    'max-running': { type: 'string' },
    'max-queue': { type: 'string' },
    'queue-timeout-s': { type: 'string' },
    'prefill-chunk': { type: 'string' },
    'context-length': { type: 'string' },
    'create-key': { type: 'string' },
    'key-models': { type: 'string' },
    'key-concurrency': { type: 'string' },
    'key-tpm': { type: 'string' },
    'key-admin': { type: 'boolean', default: false },
    'list-keys': { type: 'boolean', default: false },
    'revoke-key': { type: 'string' },
  });
  const dataDir = values['data-dir'] ?? defaultDataDir();
  if (values['create-key'] !== undefined || values['list-keys'] || values['revoke-key'] !== undefined) return manageKeys(dataDir, values);

  if (values.lan && values.host) throw new Error('give --lan or --host, not both');
  const host = values.lan ? LAN_HOST : values.host ?? '127.0.0.1';
  const port = intOpt(values.port, 'port', DEFAULT_PORT);
  if (port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${port}`);
  if (values.model && !existsSync(join(values.model, 'config.json'))) throw new Error(`--model ${values.model}: no config.json there`);
  if (!values['tls-cert'] !== !values['tls-key']) throw new Error('TLS needs both --tls-cert FILE and --tls-key FILE');
  const tls = values['tls-cert'] ? { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) } : undefined;
  const maxBodyBytes = Math.round((positive(values['max-body-mb'], 'max-body-mb', DEFAULT_MAX_BODY_BYTES / MB) ?? 0) * MB);
  const queue = {
    maxRunning: positive(values['max-running'], 'max-running', DEFAULT_QUEUE_LIMITS.maxRunning)!,
    maxQueue: positive(values['max-queue'], 'max-queue', DEFAULT_QUEUE_LIMITS.maxQueue)!,
    queueTimeoutMs: positive(values['queue-timeout-s'], 'queue-timeout-s', DEFAULT_QUEUE_LIMITS.queueTimeoutMs / 1000)! * 1000,
  };
  const prefillChunk = positive(values['prefill-chunk'], 'prefill-chunk', null) ?? undefined;
  const contextLength = positive(values['context-length'], 'context-length', null) ?? undefined;
  const log = (s: string) => process.stderr.write(`${s}\n`);
  if (!values['no-build']) ensureRendererBuilt(log);

  // A bug in one request must not take the server (and everyone's chats) down: log and go on.
  process.on('unhandledRejection', (e) => log(`karakoram serve: unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
  const core = new Core({ dataDir, modelDir: values.model, noModel: values['no-model'], prefillChunk, contextLength });
  const access = new Access(core.store.keys, dataDir);
  try {
    checkBind(host, access);
  } catch (e) {
    access.dispose();
    await core.shutdown();
    throw e;
  }
  if (core.store.recovered) log(`karakoram serve: recovered ${core.store.recovered} message(s) cut off by the last shutdown`);
  const srv = await startServer(core, { host, port, appDir: RENDERER_DIR, access, maxBodyBytes, queue, tls });
  core.start();
  process.stdout.write(`Karakoram serving on ${srv.url}\n`);
  log(`karakoram serve: the owner key of this run is in ${access.ownerKeyFile}`);
  if (process.stdout.isTTY) {
    const key = readFileSync(access.ownerKeyFile, 'utf8').trim();
    process.stdout.write(`Open ${srv.url}/#key=${key} to log in as this workstation's owner\n`);
  }
  if (!isLoopback(host)) log(`karakoram serve: listening beyond this machine (${host}); ${access.activeKeyCount()} API key(s) can log in${tls ? '' : ' — without TLS, keys cross the network in clear (use --tls-cert/--tls-key)'}`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      log('karakoram serve: shutting down');
      srv.close().then(() => { access.dispose(); return core.shutdown(); }).finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

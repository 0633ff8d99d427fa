// download.ts — fetch a model repository from a Hugging Face–compatible hub into a local folder.
// Files land as NAME.part and are renamed only when complete and verified, so an interrupted
// pull resumes (HTTP Range) and never leaves a half file under the real name. Before writing it
// checks the free disk space against the sizes the hub announces: a full disk is an error up
// front, not a corrupt shard later.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { finished, pipeline } from 'node:stream/promises';

export interface RemoteFile { path: string; size?: number; sha256?: string }

export interface PullOptions {
  endpoint: string;              // e.g. https://huggingface.co
  repo: string;                  // owner/name
  revision?: string;             // default "main"
  dest: string;                  // local folder
  token?: string;                // bearer token for gated repos
  onProgress?: (p: { file: string; bytes: number; total: number }) => void;
  signal?: AbortSignal;
  retries?: number;              // attempts after a dropped connection or a 5xx (default RETRIES)
  concurrency?: number;          // files fetched at once (default CONCURRENCY)
}

/** Attempts after the first when a connection drops or the hub answers 5xx; each resumes from the .part. */
export const RETRIES = 5;
/** First backoff; doubled each attempt (0.5, 1, 2, 4, 8 s). */
export const BACKOFF_MS = 500;
/** Files downloaded at once: small files do not wait behind a 10 GB shard. */
export const CONCURRENCY = 4;
/** Where a token for gated repositories is read from (the CLI and the app's setting of the same name). */
export const TOKEN_SETTING = 'HF_TOKEN';

// Files a K2-family model needs besides its weight shards.
const MODEL_FILES = [/^config\.json$/, /^generation_config\.json$/, /^tokenizer_config\.json$/, /^tiktoken\.model$/,
  /^chat_template\.jinja$/, /^model\.safetensors\.index\.json$/, /\.safetensors$/, /^README\.md$/];
// Room to leave on the disk beyond the files themselves (metadata, page cache spill).
const DISK_HEADROOM_BYTES = 64 * 1024 * 1024;

function headers(opts: PullOptions, extra: Record<string, string> = {}): Record<string, string> {
  return { 'user-agent': 'karakoram', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...extra };
}

/** A hub refusal with what to do about it: 401/403 on a gated repository names the token setting. */
export function httpError(what: string, r: Response, opts: PullOptions): Error {
  if (r.status === 401 || r.status === 403) {
    return new Error(`${what}: HTTP ${r.status}: ${opts.repo} is gated or private. ${opts.token ? `The token in ${TOKEN_SETTING} has no access to it: accept the model's terms on the hub with that account, or use another token.` : `Set ${TOKEN_SETTING} (environment, or the Hugging Face token setting in the app) to a token with access.`}`);
  }
  return new Error(`${what}: HTTP ${r.status} ${r.statusText}`);
}

/** Disk full or file too large: say so plainly (the .part stays; nothing is renamed into place). */
function diskError(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EFBIG' || code === 'EDQUOT') {
    return new Error(`disk full writing ${path} (${code}): free some space and pull again; the download resumes where it stopped`);
  }
  return e;
}

async function getJson(url: string, opts: PullOptions): Promise<unknown> {
  const r = await fetch(url, { headers: headers(opts), signal: opts.signal });
  if (!r.ok) throw httpError(url, r, opts);
  return r.json();
}

/** Lists the repository's files the engine needs, with sizes and LFS sha256 where the hub gives them. */
export async function listRemoteFiles(opts: PullOptions): Promise<RemoteFile[]> {
  const rev = opts.revision ?? 'main';
  const url = `${opts.endpoint}/api/models/${opts.repo}/tree/${encodeURIComponent(rev)}?recursive=true`;
  const tree = await getJson(url, opts);
  if (!Array.isArray(tree)) throw new Error(`${url}: expected a JSON array of files`);
  const files: RemoteFile[] = [];
  for (const e of tree as Array<Record<string, unknown>>) {
    if (e.type !== 'file' || typeof e.path !== 'string') continue;
    if (!MODEL_FILES.some((re) => re.test(e.path as string))) continue;
    const lfs = e.lfs as { oid?: string; size?: number } | undefined;
    files.push({ path: e.path, size: typeof e.size === 'number' ? e.size : lfs?.size, sha256: lfs?.oid });
  }
  if (!files.some((f) => f.path === 'config.json')) throw new Error(`${opts.repo}@${rev} has no config.json: not a model repository`);
  return files;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/**
 * Writes a response body to `part` chunk by chunk. When the connection breaks, every chunk that
 * arrived is flushed to disk before the error propagates (a pipeline would destroy the file
 * stream with writes still pending), so the next pull resumes from all of it.
 */
async function appendBody(body: ReadableStream<Uint8Array> | null, part: string, append: boolean,
  onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
  let failure: unknown;
  try {
    if (body) {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        onChunk(chunk);
        if (!out.write(chunk)) await once(out, 'drain');
      }
    }
  } catch (e) {
    failure = e;
  }
  out.end();
  try {
    await finished(out);
  } catch (e) {
    failure ??= e;  // e.g. a full disk: the write error, unless the network failed first
  }
  if (failure !== undefined) throw failure;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A failure worth retrying: the network, or the hub's 5xx. Not 4xx, a checksum or a full disk. */
class TransientError extends Error {}

async function fetchToPart(opts: PullOptions, f: RemoteFile, part: string): Promise<void> {
  const rev = opts.revision ?? 'main';
  const etagFile = `${part}.etag`;
  let have = existsSync(part) ? statSync(part).size : 0;
  const etag = have && existsSync(etagFile) ? readFileSync(etagFile, 'utf8') : '';
  if (have && !etag) have = 0;  // bytes of unknown origin: start over rather than splice two versions
  if (f.size !== undefined && have === f.size) return;
  const url = `${opts.endpoint}/${opts.repo}/resolve/${encodeURIComponent(rev)}/${f.path}`;
  // If-Range: the hub sends the rest only if the file is still the one the .part began with;
  // otherwise the whole new file (200), which replaces the .part.
  const extra: Record<string, string> = have ? { range: `bytes=${have}-`, 'if-range': etag } : {};
  let r: Response;
  try { r = await fetch(url, { headers: headers(opts, extra), signal: opts.signal }); } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new TransientError(`${f.path}: ${(e as Error).message}`);
  }
  if (r.status >= 500) throw new TransientError(`${f.path}: HTTP ${r.status}`);
  if (!r.ok) throw httpError(f.path, r, opts);
  const resumed = r.status === 206;
  // X-Linked-Etag is the LFS object's id (the hub's own ETag names the redirect); either is stable per version.
  const tag = r.headers.get('x-linked-etag') ?? r.headers.get('etag') ?? '';
  if (!resumed) writeFileSync(etagFile, tag);
  const total = f.size ?? (Number(r.headers.get('content-length')) + (resumed ? have : 0));
  let bytes = resumed ? have : 0;
  try {
    await appendBody(r.body, part, resumed, (chunk) => {
      bytes += chunk.length;
      opts.onProgress?.({ file: f.path, bytes, total });
    });
  } catch (e) {
    const d = diskError(e, part);
    if (d !== e || opts.signal?.aborted) throw d;
    throw new TransientError(`${f.path}: connection dropped after ${bytes} bytes (${(e as Error).message})`);
  }
}

async function downloadOne(opts: PullOptions, f: RemoteFile): Promise<void> {
  const final = join(opts.dest, f.path);
  const part = `${final}.part`;
  mkdirSync(dirname(final), { recursive: true });
  if (existsSync(final) && (f.size === undefined || statSync(final).size === f.size)) return;  // already complete
  const retries = opts.retries ?? RETRIES;
  for (let attempt = 0; ; attempt++) {
    try { await fetchToPart(opts, f, part); break; } catch (e) {
      if (!(e instanceof TransientError) || attempt >= retries) throw e instanceof TransientError ? new Error(e.message) : e;
      await sleep(BACKOFF_MS * 2 ** attempt);
    }
  }
  const size = statSync(part).size;
  if (f.size !== undefined && size !== f.size) throw new Error(`${f.path}: got ${size} bytes, expected ${f.size}`);
  if (f.sha256) {
    const got = await sha256File(part);
    if (got !== f.sha256) { unlinkSync(part); rmSync(`${part}.etag`, { force: true }); throw new Error(`${f.path}: sha256 mismatch (got ${got}, expected ${f.sha256}); the partial file was removed`); }
  }
  renameSync(part, final);
  rmSync(`${part}.etag`, { force: true });
}

/** Runs `work` over `items` with at most `n` at once; the first failure is thrown after the others settle. */
async function pool<T>(items: T[], n: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length && !errors.length) {
      const item = items[next++];
      try { await work(item); } catch (e) { errors.push(e); }
    }
  }));
  if (errors.length) throw errors[0];
}

/** Downloads every model file of the repository into opts.dest; resumable and verified. */
export async function pullModel(opts: PullOptions): Promise<RemoteFile[]> {
  mkdirSync(opts.dest, { recursive: true });
  const files = await listRemoteFiles(opts);
  const needed = files.reduce((sum, f) => {
    const final = join(opts.dest, f.path);
    if (existsSync(final)) return sum;
    const part = `${final}.part`;
    return sum + Math.max(0, (f.size ?? 0) - (existsSync(part) ? statSync(part).size : 0));
  }, 0);
  const fs = statfsSync(opts.dest);
  const free = fs.bavail * fs.bsize;
  if (needed + DISK_HEADROOM_BYTES > free) {
    throw new Error(`not enough disk space in ${opts.dest}: need ${(needed / 2 ** 30).toFixed(2)} GiB, ${(free / 2 ** 30).toFixed(2)} GiB free`);
  }
  // Small files first: a bad repository shows up before gigabytes move.
  await pool([...files].sort((a, b) => (a.size ?? 0) - (b.size ?? 0)), opts.concurrency ?? CONCURRENCY, (f) => downloadOne(opts, f));
  return files;
}

// download.ts — fetch a model repository from a Hugging Face–compatible hub into a local folder.
// Files land as NAME.part and are renamed only when complete and verified, so an interrupted
// pull resumes (HTTP Range) and never leaves a half file under the real name. Before writing it
// checks the free disk space against the sizes the hub announces: a full disk is an error up
// front, not a corrupt shard later.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync, statfsSync, unlinkSync } from 'node:fs';
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
}

// Files a K2-family model needs besides its weight shards.
const MODEL_FILES = [/^config\.json$/, /^generation_config\.json$/, /^tokenizer_config\.json$/, /^tiktoken\.model$/,
  /^chat_template\.jinja$/, /^model\.safetensors\.index\.json$/, /\.safetensors$/, /^README\.md$/];
// Room to leave on the disk beyond the files themselves (metadata, page cache spill).
const DISK_HEADROOM_BYTES = 64 * 1024 * 1024;

function headers(opts: PullOptions, extra: Record<string, string> = {}): Record<string, string> {
  return { 'user-agent': 'karakoram', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...extra };
}

async function getJson(url: string, opts: PullOptions): Promise<unknown> {
  const r = await fetch(url, { headers: headers(opts), signal: opts.signal });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${r.statusText}`);
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

async function downloadOne(opts: PullOptions, f: RemoteFile): Promise<void> {
  const rev = opts.revision ?? 'main';
  const final = join(opts.dest, f.path);
  const part = `${final}.part`;
  mkdirSync(dirname(final), { recursive: true });
  if (existsSync(final) && (f.size === undefined || statSync(final).size === f.size)) return;  // already complete
  const have = existsSync(part) ? statSync(part).size : 0;
  const url = `${opts.endpoint}/${opts.repo}/resolve/${encodeURIComponent(rev)}/${f.path}`;
  const r = await fetch(url, { headers: headers(opts, have ? { range: `bytes=${have}-` } : {}), signal: opts.signal });
  if (r.status === 416 && f.size !== undefined && have === f.size) { /* .part already complete */ }
  else if (!r.ok) throw new Error(`${f.path}: HTTP ${r.status} ${r.statusText}`);
  else {
    const resumed = r.status === 206;
    const total = f.size ?? (Number(r.headers.get('content-length')) + (resumed ? have : 0));
    let bytes = resumed ? have : 0;
    await appendBody(r.body, part, resumed, (chunk) => {
      bytes += chunk.length;
      opts.onProgress?.({ file: f.path, bytes, total });
    });
  }
  const size = statSync(part).size;
  if (f.size !== undefined && size !== f.size) throw new Error(`${f.path}: got ${size} bytes, expected ${f.size}`);
  if (f.sha256) {
    const got = await sha256File(part);
    if (got !== f.sha256) { unlinkSync(part); throw new Error(`${f.path}: sha256 mismatch (got ${got}, expected ${f.sha256}); the partial file was removed`); }
  }
  renameSync(part, final);
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
  for (const f of [...files].sort((a, b) => (a.size ?? 0) - (b.size ?? 0))) await downloadOne(opts, f);
  return files;
}

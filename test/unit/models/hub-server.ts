// hub-server.ts — a local HTTP server that behaves like the Hugging Face Hub for the download tests:
// /api/models?search= (search), /api/models/R/tree/REV (LFS sha256 + size), /R/resolve/REV/F →
// 302 to /blobs/SHA with X-Linked-Etag / X-Linked-Size / X-Repo-Commit, blobs with ETag,
// Range (bytes=a-b and bytes=a-), If-Range and a Content-Digest of each range; gated repos
// answer 401 without the right token. Faults: throttle, drop a connection after N bytes, damage
// one range in transit (after its digest was computed), a hook on every byte sent.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

export interface HubFile { path: string; data: Buffer; sha256: string }
export interface HubRepo { files: HubFile[]; gatedToken?: string }
export interface Faults {
  bytesPerSecond?: number;
  dropAfterBytes?: number[];                      // each used once, by the next response longer than it
  corrupt?: Array<{ path: string; start: number }>;  // each used once: the range of that file starting there
  onSent?: (bytes: number) => void;               // after each chunk reaches the socket
}

/** A repository from a fixture folder: its model files (not the float64 references or the README). */
export function repoFromDir(dir: string, gatedToken?: string): HubRepo {
  const files = readdirSync(dir).filter((f) => f !== 'README.md' && !f.startsWith('reference')).map((path) => {
    const data = readFileSync(join(dir, path));
    return { path, data, sha256: createHash('sha256').update(data).digest('hex') };
  });
  return { files, gatedToken };
}

const COMMIT = 'c0ffee'.padEnd(40, '0');
const CHUNK = 16 * 1024;

export interface Hub { server: Server; endpoint: string; requests: string[]; close: () => Promise<void> }

export async function startHub(repos: Record<string, HubRepo>, faults: Faults = {}): Promise<Hub> {
  const requests: string[] = [];
  const blobs = new Map<string, { data: Buffer; path: string }>();
  for (const r of Object.values(repos)) for (const f of r.files) blobs.set(f.sha256, { data: f.data, path: f.path });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const blobPath = /^\/blobs\/(\w+)$/.exec(url.pathname)?.[1];
    requests.push(`${req.method} ${blobPath ? `/blobs/${blobs.get(blobPath)?.path}` : url.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const auth = (repo: HubRepo) => !repo.gatedToken || req.headers.authorization === `Bearer ${repo.gatedToken}`;
    if (url.pathname === '/api/models') {
      const q = (url.searchParams.get('search') ?? '').toLowerCase();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(Object.entries(repos).filter(([id]) => id.toLowerCase().includes(q)).map(([id, r]) => ({
        _id: id, id, modelId: id, likes: 1, downloads: 10, private: false, gated: r.gatedToken ? 'manual' : false,
        pipeline_tag: 'text-generation', tags: ['safetensors'], createdAt: '2026-01-01T00:00:00.000Z', lastModified: '2026-01-01T00:00:00.000Z',
      }))));
      return;
    }
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/[^/]+$/.exec(url.pathname);
    if (tree) {
      const repo = repos[tree[1]];
      if (!repo) { res.statusCode = 404; res.end('{"error":"Repository not found"}'); return; }
      if (!auth(repo)) { res.statusCode = 401; res.end('{"error":"Access to model is restricted"}'); return; }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(repo.files.map((f) => ({ type: 'file', path: f.path, size: f.data.length, oid: f.sha256.slice(0, 40), lfs: { oid: f.sha256, size: f.data.length, pointerSize: 134 } }))));
      return;
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(url.pathname);
    if (resolve) {
      const repo = repos[resolve[1]];
      const f = repo?.files.find((x) => x.path === resolve[2]);
      if (!repo || !f) { res.statusCode = 404; res.end('not found'); return; }
      if (!auth(repo)) { res.statusCode = 401; res.end('unauthorized'); return; }
      res.writeHead(302, { location: `/blobs/${f.sha256}`, 'x-linked-etag': `"${f.sha256}"`, 'x-linked-size': String(f.data.length), 'x-repo-commit': COMMIT });
      res.end();
      return;
    }
    const blob = blobPath ? blobs.get(blobPath) : undefined;
    if (!blob) { res.statusCode = 404; res.end('not found'); return; }
    const { data } = blob;
    const etag = `"${blobPath}"`;
    res.setHeader('etag', etag);
    res.setHeader('accept-ranges', 'bytes');
    let start = 0;
    let end = data.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && (!ifRange || ifRange === etag)) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
      if (start >= data.length || end < start) { res.writeHead(416, { 'content-range': `bytes */${data.length}` }); res.end(); return; }
    }
    const body = Buffer.from(data.subarray(start, end + 1));
    const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
    const hit = faults.corrupt?.findIndex((c) => c.path === blob.path && c.start === start) ?? -1;
    if (hit >= 0) { faults.corrupt!.splice(hit, 1); body[body.length >> 1] ^= 0xff; }  // damaged in transit
    const headers = { 'content-length': String(body.length), 'content-digest': digest };
    if (range && (!ifRange || ifRange === etag)) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${data.length}` });
    else res.writeHead(200, headers);
    const dropIdx = faults.dropAfterBytes?.findIndex((d) => d < body.length) ?? -1;
    const drop = dropIdx >= 0 ? faults.dropAfterBytes!.splice(dropIdx, 1)[0] : undefined;
    let sent = 0;
    const tick = faults.bytesPerSecond ? (CHUNK / faults.bytesPerSecond) * 1000 : 0;
    const pump = () => {
      if (res.destroyed) return;
      if (sent >= body.length) { res.end(); return; }
      let n = Math.min(CHUNK, body.length - sent);
      if (drop !== undefined) n = Math.min(n, drop - sent);
      res.write(body.subarray(sent, sent + n), () => {
        sent += n;
        faults.onSent?.(n);
        if (drop !== undefined && sent >= drop) { setTimeout(() => res.destroy(), 10); return; }
        if (tick) setTimeout(pump, tick); else setImmediate(pump);
      });
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return { server, endpoint: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, requests, close };
}

// hub-server.ts — a local HTTP server that behaves like the Hugging Face Hub for the download tests:
// /api/models/R/tree/REV (LFS sha256 + size), /R/resolve/REV/F → 302 to /blobs/SHA with
// X-Linked-Etag / X-Linked-Size / X-Repo-Commit, blobs with ETag, Range and If-Range; gated repos
// answer 401 without the right token. Faults: throttle, drop the connection after N bytes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

export interface HubFile { path: string; data: Buffer; sha256: string }
export interface HubRepo { files: HubFile[]; gatedToken?: string }
export interface Faults { bytesPerSecond?: number; dropAfterBytes?: number[] }  // each drop is used once

export function repoFromDir(dir: string, gatedToken?: string): HubRepo {
  const files = readdirSync(dir).filter((f) => f !== 'README.md' && !f.startsWith('reference')).map((path) => {
    const data = readFileSync(join(dir, path));
    return { path, data, sha256: createHash('sha256').update(data).digest('hex') };
  });
  return { files, gatedToken };
}

const COMMIT = 'c0ffee'.padEnd(40, '0');
const CHUNK = 16 * 1024;

export async function startHub(repos: Record<string, HubRepo>, faults: Faults = {}): Promise<{ server: Server; endpoint: string; requests: string[] }> {
  const requests: string[] = [];
  const blobs = new Map<string, Buffer>();
  for (const r of Object.values(repos)) for (const f of r.files) blobs.set(f.sha256, f.data);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const auth = (repo: HubRepo) => !repo.gatedToken || req.headers.authorization === `Bearer ${repo.gatedToken}`;
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/[^/]+$/.exec(url.pathname);
    if (tree) {
      const repo = repos[tree[1]];
      if (!repo) { res.statusCode = 404; res.end('{"error":"Repository not found"}'); return; }
      if (!auth(repo)) { res.statusCode = 401; res.end('{"error":"Access to model is restricted"}'); return; }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(repo.files.map((f) => ({ type: 'file', path: f.path, size: f.data.length, oid: f.sha256.slice(0, 40), lfs: { oid: f.sha256, size: f.data.length } }))));
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
    const blob = /^\/blobs\/([0-9a-f]{64})$/.exec(url.pathname);
    const data = blob ? blobs.get(blob[1]) : undefined;
    if (!blob || !data) { res.statusCode = 404; res.end('not found'); return; }
    const etag = `"${blob[1]}"`;
    res.setHeader('etag', etag);
    res.setHeader('accept-ranges', 'bytes');
    let start = 0;
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && (!ifRange || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= data.length) { res.writeHead(416, { 'content-range': `bytes */${data.length}` }); res.end(); return; }
      res.writeHead(206, { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}`, 'content-length': String(data.length - start) });
    } else {
      res.writeHead(200, { 'content-length': String(data.length) });
    }
    const drop = faults.dropAfterBytes?.shift();
    let sent = 0;
    const tick = faults.bytesPerSecond ? (CHUNK / faults.bytesPerSecond) * 1000 : 0;
    const pump = () => {
      if (res.destroyed) return;
      if (start + sent >= data.length) { res.end(); return; }
      let n = Math.min(CHUNK, data.length - start - sent);
      if (drop !== undefined && sent + n >= drop) n = Math.max(0, drop - sent);
      res.write(data.subarray(start + sent, start + sent + n), () => {
        sent += n;
        if (drop !== undefined && sent >= drop) { setTimeout(() => res.destroy(), 10); return; }
        if (tick) setTimeout(pump, tick); else setImmediate(pump);
      });
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, endpoint: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, requests };
}

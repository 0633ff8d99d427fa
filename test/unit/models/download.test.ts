// pull against a local hub that speaks the Hugging Face layout (/api/models/R/tree/REV, /R/resolve/REV/F).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullModel } from '../../../main/models/download.ts';

const SRC = join(__dirname, '../../../assets/models/demo-k2');
const files = readdirSync(SRC).filter((f) => f !== 'README.md');
let server: Server;
let endpoint = '';
let cutFirstShardAt = 0;     // when > 0, the first full request of a shard stops after that many bytes
let corrupt = false;         // serve a wrong sha256 for config.json
const ranges: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/models/kk/demo/tree/main') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(files.map((f) => {
        const data = readFileSync(join(SRC, f));
        const sha = corrupt && f === 'config.json' ? '0'.repeat(64) : createHash('sha256').update(data).digest('hex');
        return { type: 'file', path: f, size: data.length, lfs: { oid: sha, size: data.length } };
      })));
      return;
    }
    const m = /^\/kk\/demo\/resolve\/main\/(.+)$/.exec(url.pathname);
    if (!m || !files.includes(m[1])) { res.statusCode = 404; res.end('not found'); return; }
    const data = readFileSync(join(SRC, m[1]));
    res.setHeader('etag', `"${createHash('sha256').update(data).digest('hex')}"`);
    const range = req.headers.range;
    if (range) {
      ranges.push(`${m[1]} ${range}`);
      const start = Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0);
      res.statusCode = 206;
      res.setHeader('content-range', `bytes ${start}-${data.length - 1}/${data.length}`);
      res.end(data.subarray(start));
      return;
    }
    if (cutFirstShardAt && m[1].endsWith('.safetensors')) {
      const cut = cutFirstShardAt;
      cutFirstShardAt = 0;
      res.setHeader('content-length', String(data.length));
      // Let the bytes reach the client before the connection drops (a FIN, as a broken transfer).
      res.write(data.subarray(0, cut), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(data);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => server.close());

describe('pullModel', () => {
  it('downloads every model file byte for byte', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kk-pull-'));
    const got = await pullModel({ endpoint, repo: 'kk/demo', dest });
    expect(got.map((f) => f.path).sort()).toEqual([...files].sort());
    for (const f of files) expect(readFileSync(join(dest, f)).equals(readFileSync(join(SRC, f)))).toBe(true);
  });

  it('resumes an interrupted shard with an HTTP range request', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kk-pull-'));
    cutFirstShardAt = 100_000;
    await expect(pullModel({ endpoint, repo: 'kk/demo', dest, retries: 0 })).rejects.toThrow();
    const partial = readdirSync(dest).filter((f) => f.endsWith('.part'));
    expect(partial).toHaveLength(1);
    expect(existsSync(join(dest, `${partial[0]}.etag`))).toBe(true);
    // Every byte that arrived before the break is on disk (the resume starts after them).
    expect(statSync(join(dest, partial[0])).size).toBe(100_000);
    await pullModel({ endpoint, repo: 'kk/demo', dest });
    expect(ranges.some((r) => /\.safetensors bytes=[1-9]\d*-$/.test(r))).toBe(true);
    for (const f of files) expect(readFileSync(join(dest, f)).equals(readFileSync(join(SRC, f)))).toBe(true);
    expect(readdirSync(dest).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('rejects a file whose sha256 does not match and keeps nothing under its name', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kk-pull-'));
    corrupt = true;
    try {
      await expect(pullModel({ endpoint, repo: 'kk/demo', dest })).rejects.toThrow(/config\.json: sha256 mismatch/);
    } finally { corrupt = false; }
    expect(existsSync(join(dest, 'config.json'))).toBe(false);
  });

  it('names the repository when it does not exist', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kk-pull-'));
    await expect(pullModel({ endpoint, repo: 'kk/missing', dest })).rejects.toThrow(/kk\/missing.*HTTP 404/);
  });

  it('skips files already complete', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kk-pull-'));
    writeFileSync(join(dest, 'config.json'), readFileSync(join(SRC, 'config.json')));
    const before = ranges.length;
    await pullModel({ endpoint, repo: 'kk/demo', dest });
    expect(ranges.length).toBe(before);
    expect(readFileSync(join(dest, 'config.json')).equals(readFileSync(join(SRC, 'config.json')))).toBe(true);
  });
});

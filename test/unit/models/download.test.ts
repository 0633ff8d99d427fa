// pullModel against the Hub-like server (hub-server.ts): parallel ranges through resolve → blob
// redirects, byte for byte; a sha256 mismatch keeps nothing; a missing repo; complete files
// skipped; a gated repo names the token setting.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullModel } from '../../../main/models/download.ts';
import { blobRequests, DEMO, expectVerified, TINY, tmp } from './hub-fixtures.ts';
import { startHub, type Hub, type HubRepo } from './hub-server.ts';

const RANGE = 256 * 1024;
const GATED: HubRepo = { ...DEMO, gatedToken: 'hf_secret' };
const config = DEMO.files.find((f) => f.path === 'config.json')!;
// config.json announced with the sha256 of other bytes: what a damaged blob looks like.
const LYING: HubRepo = { files: [{ ...config, sha256: createHash('sha256').update('other bytes').digest('hex') }] };

describe('pullModel', { timeout: 30_000 }, () => {
  let hub: Hub;
  beforeAll(async () => { hub = await startHub({ 'kk/tiny': TINY, 'kk/demo': DEMO, 'kk/gated': GATED, 'kk/lying': LYING }); });
  afterAll(() => hub.close());

  it('downloads tiny-k2 in parallel ranges through resolve → blob redirects, byte for byte', async () => {
    const dest = tmp('pull');
    const seen: number[] = [];
    await pullModel({ endpoint: hub.endpoint, repo: 'kk/tiny', dest, rangeBytes: RANGE, onProgress: (p) => seen.push(p.doneBytes) });
    expectVerified(dest, TINY);
    const shard = TINY.files.find((f) => f.path === 'model-00001-of-00002.safetensors')!;
    expect(blobRequests(hub.requests, shard.path)).toHaveLength(Math.ceil(shard.data.length / RANGE));
    expect(Math.max(...seen)).toBe(TINY.files.reduce((s, f) => s + f.data.length, 0));
  });

  it('into the hub cache layout: blobs by sha256, snapshots/COMMIT links, refs/main; a second pull fetches nothing', async () => {
    const cacheDir = tmp('cache');
    const r = await pullModel({ endpoint: hub.endpoint, repo: 'kk/demo', cacheDir, rangeBytes: RANGE });
    const root = join(cacheDir, 'models--kk--demo');
    expect(r.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(readFileSync(join(root, 'refs', 'main'), 'utf8')).toBe(r.commit);
    expect(r.dir).toBe(join(root, 'snapshots', r.commit!));
    for (const f of DEMO.files) {
      const link = join(r.dir, f.path);
      expect(lstatSync(link).isSymbolicLink(), f.path).toBe(true);
      expect(readlinkSync(link)).toBe(`../../blobs/${f.sha256}`);
      expect(readFileSync(join(root, 'blobs', f.sha256)).equals(f.data), f.path).toBe(true);
    }
    expectVerified(r.dir, DEMO);
    expect(readdirSync(join(root, 'blobs')).filter((n) => n.includes('.part'))).toEqual([]);
    const before = hub.requests.length;
    await pullModel({ endpoint: hub.endpoint, repo: 'kk/demo', cacheDir, rangeBytes: RANGE });
    expect(hub.requests.slice(before).filter((q) => q.startsWith('GET /blobs/'))).toEqual([]);
  });

  it('a sha256 mismatch: an error naming the file, nothing kept under its name', async () => {
    const dest = tmp('pull');
    await expect(pullModel({ endpoint: hub.endpoint, repo: 'kk/lying', dest })).rejects.toThrow(/config\.json: sha256 mismatch/);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('names the repository when it does not exist', async () => {
    await expect(pullModel({ endpoint: hub.endpoint, repo: 'kk/missing', dest: tmp('pull') })).rejects.toThrow(/kk\/missing.*HTTP 404/);
  });

  it('skips files already complete', async () => {
    const dest = tmp('pull');
    writeFileSync(join(dest, 'config.json'), config.data);
    const before = hub.requests.length;
    await pullModel({ endpoint: hub.endpoint, repo: 'kk/demo', dest });
    expect(blobRequests(hub.requests.slice(before), 'config.json')).toEqual([]);
    expectVerified(dest, DEMO);
  });

  it('a gated repository: a 401 names the token setting; the right token downloads it', async () => {
    const dest = tmp('pull');
    await expect(pullModel({ endpoint: hub.endpoint, repo: 'kk/gated', dest })).rejects.toThrow(/HTTP 401.*gated.*Set HF_TOKEN/);
    await expect(pullModel({ endpoint: hub.endpoint, repo: 'kk/gated', dest, token: 'hf_wrong' })).rejects.toThrow(/token in HF_TOKEN has no access/);
    await expect(pullModel({ endpoint: hub.endpoint, repo: 'kk/gated', dest, token: 'secret' })).rejects.toThrow(/token in HF_TOKEN is not a Hugging Face token/);
    expect(existsSync(join(dest, 'config.json'))).toBe(false);
    await pullModel({ endpoint: hub.endpoint, repo: 'kk/gated', dest, token: 'hf_secret' });
    expectVerified(dest, GATED);
  });
});

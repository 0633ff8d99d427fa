// The library: hub cache snapshots (ours and one laid out as another tool would) and added
// folders, each with architecture, quantization, size on disk and completeness; HF_HOME /
// HF_HUB_CACHE honoured.
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pullModel } from '../../../main/models/download.ts';
import { hubCacheDir } from '../../../main/models/hf-cache.ts';
import { scanLibrary } from '../../../main/models/library.ts';
import { DEMO, ROOT, TINY, tmp } from './hub-fixtures.ts';
import { startHub, type Hub } from './hub-server.ts';

const SHARED = process.env.KK_SHARED ?? join(ROOT, '../shared');
const COMMIT = 'ab'.repeat(20);

/** tiny-k2 the way huggingface_hub lays it out, with `skip` left out of blobs (a dangling link). */
function foreignCache(cacheDir: string, skip?: string): string {
  const root = join(cacheDir, 'models--other--tiny');
  const snap = join(root, 'snapshots', COMMIT);
  mkdirSync(join(root, 'blobs'), { recursive: true }); mkdirSync(snap, { recursive: true }); mkdirSync(join(root, 'refs'), { recursive: true });
  writeFileSync(join(root, 'refs', 'main'), COMMIT);
  for (const f of TINY.files) {
    if (f.path !== skip) copyFileSync(join(SHARED, 'fixtures/tiny-k2', f.path), join(root, 'blobs', f.sha256));
    symlinkSync(`../../blobs/${f.sha256}`, join(snap, f.path));
  }
  return snap;
}

describe('model library', { timeout: 30_000 }, () => {
  let hub: Hub;
  beforeAll(async () => { hub = await startHub({ 'kk/demo': DEMO }); });
  afterAll(() => hub.close());
  const env = { ...process.env };
  afterEach(() => { process.env = { ...env }; });

  it('lists our pull and another tool\'s snapshot with architecture, quantization, size and completeness', async () => {
    const cacheDir = tmp('lib');
    const ours = await pullModel({ endpoint: hub.endpoint, repo: 'kk/demo', cacheDir });
    const theirs = foreignCache(cacheDir);
    const lib = scanLibrary([cacheDir], []);
    expect(lib.map((m) => m.repo)).toEqual(['kk/demo', 'other/tiny']);
    const demo = lib[0];
    expect(demo).toMatchObject({ dir: ours.dir, commit: ours.commit, refs: ['main'], source: 'hub-cache', complete: true, missing: [] });
    expect(demo.architecture).toBe('DeepseekV3ForCausalLM');
    expect(demo.quantization).toBe('int4');
    expect(demo.sizeOnDiskBytes).toBe(DEMO.files.reduce((s, f) => s + f.data.length, 0));
    expect(lib[1]).toMatchObject({ dir: theirs, commit: COMMIT, complete: true, sizeOnDiskBytes: TINY.files.reduce((s, f) => s + f.data.length, 0) });
  });

  it('a shard missing from blobs or a .part still downloading: listed, not complete, saying what is missing', () => {
    const cacheDir = tmp('lib');
    const shard = TINY.files.find((f) => f.path === 'model-00002-of-00002.safetensors')!;
    foreignCache(cacheDir, shard.path);
    const [m] = scanLibrary([cacheDir], []);
    expect(m.complete).toBe(false);
    expect(m.missing).toEqual([shard.path]);
    expect(m.sizeOnDiskBytes).toBe(TINY.files.reduce((s, f) => s + (f === shard ? 0 : f.data.length), 0));
    writeFileSync(join(cacheDir, 'models--other--tiny', 'blobs', `${shard.sha256}.part`), 'x');
    expect(scanLibrary([cacheDir], [])[0].missing).toContain('files still downloading');
  });

  it('an added folder: itself when it is a model, else the models inside; junk ignored', () => {
    const dir = tmp('folder');
    mkdirSync(join(dir, 'demo'));
    for (const f of DEMO.files) writeFileSync(join(dir, 'demo', f.path), f.data);
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'a.txt'), 'hi');
    const lib = scanLibrary([], [dir, join(dir, 'demo')]);
    expect(lib).toHaveLength(1);
    expect(lib[0]).toMatchObject({ dir: join(dir, 'demo'), source: 'folder', repo: null, complete: true, quantization: 'int4' });
    rmSync(join(dir, 'demo', 'config.json'));
    expect(scanLibrary([], [dir])[0]).toMatchObject({ complete: false, missing: ['config.json'] });
  });

  it('honours HF_HUB_CACHE, then HF_HOME/hub', () => {
    process.env.HF_HUB_CACHE = '/x/hub-cache';
    process.env.HF_HOME = '/y/hf';
    expect(hubCacheDir()).toBe('/x/hub-cache');
    delete process.env.HF_HUB_CACHE;
    expect(hubCacheDir()).toBe('/y/hf/hub');
  });
});

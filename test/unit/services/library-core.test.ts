// The model library through the core's contract (results validated against common/contract.ts):
// hub search on the configured endpoint, a repo's files and fit plan before downloading, a
// download into the hub cache, the library listing it, and the token setting for a gated repo.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadView, LibraryView, RepoView } from '../../../common/library.ts';
import { Core } from '../../../main/services/core.ts';
import { DEMO, ROOT, tmp } from '../models/hub-fixtures.ts';
import { repoFromDir, startHub, type Hub } from '../models/hub-server.ts';

const KK_SYNTH = join(ROOT, 'build/addon/kk_synth');

describe('model library through the core', { timeout: 60_000 }, () => {
  let hub: Hub;
  let core: Core;
  let seq = 0;
  const call = async <T>(method: string, params: unknown = {}): Promise<T> => {
    const r = await core.handle(++seq, method, params);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.result as T;
  };
  const events: Array<{ state: string; fraction: number }> = [];
  const modelsDir = tmp('core-models');
  beforeAll(async () => {
    if (!existsSync(KK_SYNTH)) throw new Error('kk_synth is not built (npm run build:native): the FP8 conversion test needs it');
    const fp8 = tmp('fp8');
    execFileSync(KK_SYNTH, ['--preset', 'tiny', '--expert-format', 'fp8', '--dense-format', 'fp8', '--out', fp8], { stdio: 'ignore' });
    process.env.KARAKORAM_MODELS_DIR = modelsDir;
    hub = await startHub({ 'kk/demo-k2': DEMO, 'kk/gated': { ...DEMO, gatedToken: 'hf_ok' }, 'kk/fp8': repoFromDir(fp8) });
    core = new Core({ dataDir: tmp('core-lib'), noModel: true, checkResults: true, hubCacheDir: join(tmp('core-cache'), 'hub') });
    await call('updateSettings', { hubEndpoint: hub.endpoint, downloadLimitMBps: 0 });
    core.bus.subscribe((e, p) => { if (e === 'conversion') events.push(p as { state: string; fraction: number }); });
  });
  afterAll(async () => { await core.shutdown(); await hub.close(); });

  it('searches the configured hub', async () => {
    const hits = await call<Array<{ repo: string }>>('searchHub', { query: 'demo' });
    expect(hits.map((h) => h.repo)).toEqual(['kk/demo-k2']);
    expect(hub.requests.some((r) => r.startsWith('GET /api/models'))).toBe(true);
  });

  it('shows a repo\'s files, variants and the fit plan from its config before downloading', async () => {
    const v = await call<RepoView>('getRepo', { repo: 'kk/demo-k2' });
    expect(v.files.map((f) => f.path).sort()).toEqual(DEMO.files.map((f) => f.path).sort());
    expect(v.totalBytes).toBe(DEMO.files.reduce((s, f) => s + f.data.length, 0));
    expect(v.architecture).toBe('DeepseekV3ForCausalLM');
    expect(v.quantization).toBe('int4');
    expect(v.variants.map((x) => x.repo)).toContain('moonshotai/Kimi-K2-Thinking');
    expect(v.planError).toBeNull();
    expect(v.plan!.fits).toBe(true);
    expect(v.plan!.expectedDecodeTokS).toBeGreaterThan(0);
    expect(v.plan!.kvBytes).toBeGreaterThan(0);
  });

  it('a gated repo names the token setting; with the token set it opens', async () => {
    await expect(call('getRepo', { repo: 'kk/gated' })).rejects.toThrow(/bad_request: .*HTTP 401.*HF_TOKEN/);
    const lib = await call<LibraryView>('setHubToken', { token: 'hf_ok' });
    expect(lib.tokenSet).toBe(true);
    expect(JSON.stringify(lib)).not.toContain('hf_ok');
    expect((await call<RepoView>('getRepo', { repo: 'kk/gated' })).files.length).toBe(DEMO.files.length);
    await call('setHubToken', { token: null });
  });

  async function download(repo: string): Promise<DownloadView> {
    const d = await call<DownloadView>('startDownload', { repo });
    const t0 = Date.now();
    let v = d;
    while (v.state !== 'done') {
      if (v.state === 'error' || Date.now() - t0 > 30_000) throw new Error(`download: ${v.state} ${v.error}`);
      await new Promise((r) => setTimeout(r, 50));
      v = (await call<DownloadView[]>('listDownloads')).find((x) => x.id === d.id)!;
    }
    return v;
  }

  it('downloads into the hub cache; the library lists it complete and loadable', async () => {
    const v = await download('kk/demo-k2');
    const d = v;
    const lib = await call<LibraryView>('getLibrary');
    expect(lib.endpoint).toBe(hub.endpoint);
    expect(lib.models.find((m) => m.repo === 'kk/demo-k2')).toMatchObject({ complete: true, dir: v.dir, quantization: 'int4', loaded: false });
    expect(await call('verifyDownload', { id: d.id })).toMatchObject({ ok: true, damaged: [] });
    await expect(call('startDownload', { repo: 'not a repo' })).rejects.toThrow(/bad_request.*OWNER\/NAME/);
  });

  it('a block-FP8 download is converted to INT4 once (kk_convert); the copy is listed complete as int4', async () => {
    const v = await download('kk/fp8');
    const before = await call<LibraryView>('getLibrary');
    expect(before.models.find((m) => m.dir === v.dir)).toMatchObject({ quantization: 'fp8', complete: true });
    const { dir } = await call<{ dir: string }>('convertModel', { dir: v.dir });
    expect(dir).toBe(join(modelsDir, 'kk--fp8-int4'));
    expect(readdirSync(modelsDir)).toEqual(['kk--fp8-int4']);   // no .converting left behind
    const after = await call<LibraryView>('getLibrary');
    expect(after.models.find((m) => m.dir === dir)).toMatchObject({ source: 'folder', quantization: 'int4', complete: true, architecture: 'DeepseekV3ForCausalLM' });
    expect(events.at(-1)).toMatchObject({ state: 'done', fraction: 1 });
    expect(events.some((e) => e.state === 'running' && e.fraction > 0 && e.fraction < 1)).toBe(true);
    await expect(call('convertModel', { dir })).rejects.toThrow(/int4, not block-FP8/);
    await expect(call('convertModel', { dir: v.dir })).rejects.toThrow(/already exists/);
  });
});

// The core's downloads against the Hub-like server: state in the database survives a restart
// (paused stays paused, running resumes), pause / resume / cancel / verify / delete each do what
// they say, several repos download at once, and a gated repo's error names the token setting.
// The hub is throttled so a pause lands mid-download.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadView } from '../../../common/library.ts';
import { scanLibrary } from '../../../main/models/library.ts';
import { DownloadService } from '../../../main/services/download-service.ts';
import { EventBus } from '../../../main/services/events.ts';
import { openStore, type Store } from '../../../main/store/index.ts';
import { DEMO, expectVerified, TINY, tmp } from '../models/hub-fixtures.ts';
import { startHub, type Hub } from '../models/hub-server.ts';

const RATE = 4 * 2 ** 20;   // hub bytes/s: the demo's ~10.8 MB take ~2.7 s
const DEMO_BYTES = DEMO.files.reduce((s, f) => s + f.data.length, 0);

interface Rig { store: Store; svc: DownloadService; events: DownloadView[][]; close(): Promise<void> }

describe('DownloadService', { timeout: 60_000 }, () => {
  let hub: Hub;
  beforeAll(async () => {
    hub = await startHub({ 'kk/demo': DEMO, 'kk/tiny': TINY, 'kk/gated': { ...DEMO, gatedToken: 'hf_ok' } }, { bytesPerSecond: RATE });
  });
  afterAll(() => hub.close());

  function rig(dataDir: string, cacheDir: string): Rig {
    const store = openStore(dataDir);
    const bus = new EventBus();
    const events: DownloadView[][] = [];
    bus.subscribe((e, p) => { if (e === 'downloads') events.push(p as DownloadView[]); });
    const svc = new DownloadService(store.downloads, bus, cacheDir, () => ({ endpoint: hub.endpoint }), 0);
    return { store, svc, events, async close() { await svc.shutdown(); store.close(); } };
  }

  const until = async (what: string, ok: () => boolean, ms = 30_000) => {
    const t0 = Date.now();
    while (!ok()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const state = (r: Rig, id: string) => r.svc.list().find((d) => d.id === id)!;

  it('downloads with progress, speed and ETA; the snapshot is verified and listed complete', async () => {
    const cache = tmp('dl-cache');
    const r = rig(tmp('dl-data'), cache);
    const d = r.svc.start('kk/demo');
    await until('done', () => state(r, d.id).state === 'done');
    const done = state(r, d.id);
    expect(done).toMatchObject({ doneBytes: DEMO_BYTES, totalBytes: DEMO_BYTES, error: null });
    expectVerified(done.dir!, DEMO);
    const mid = r.events.flat().filter((v) => v.id === d.id && v.state === 'running' && v.doneBytes > 0 && v.doneBytes < DEMO_BYTES);
    expect(mid.length).toBeGreaterThan(2);
    expect(mid.some((v) => v.bytesPerSecond > 0 && v.etaSeconds !== null)).toBe(true);
    for (let i = 1; i < mid.length; i++) expect(mid[i].doneBytes).toBeGreaterThanOrEqual(mid[i - 1].doneBytes);
    expect(scanLibrary([cache], [])).toMatchObject([{ repo: 'kk/demo', complete: true, dir: done.dir }]);
    // Starting it again is the same download, already done: nothing fetched.
    const before = hub.requests.length;
    expect(r.svc.start('kk/demo').id).toBe(d.id);
    expect(hub.requests.length).toBe(before);
    // Its files removed behind its back: starting it again fetches them again.
    rmSync(join(cache, 'models--kk--demo'), { recursive: true, force: true });
    expect(r.svc.start('kk/demo').state).toBe('running');
    await until('done again', () => state(r, d.id).state === 'done');
    expectVerified(state(r, d.id).dir!, DEMO);
    await r.close();
  });

  it('pause keeps the .part; after an app restart it is still paused; resume finishes it without refetching', async () => {
    const data = tmp('dl-data'), cache = tmp('dl-cache');
    let r = rig(data, cache);
    const d = r.svc.start('kk/demo');
    await until('a third downloaded', () => state(r, d.id).doneBytes > DEMO_BYTES / 3);
    const paused = await r.svc.pause(d.id);
    expect(paused.state).toBe('paused');
    expect(paused.doneBytes).toBeLessThan(DEMO_BYTES);
    const blobs = join(cache, 'models--kk--demo', 'blobs');
    expect(readdirSync(blobs).some((n) => n.endsWith('.part'))).toBe(true);
    const sent = hub.requests.length;
    await new Promise((res) => setTimeout(res, 300));
    expect(hub.requests.length).toBe(sent);            // paused means nothing moves
    await r.close();

    r = rig(data, cache);                               // the app restarted
    r.svc.resumeInterrupted();
    expect(state(r, d.id).state).toBe('paused');
    expect(state(r, d.id).doneBytes).toBeGreaterThan(0);
    const before = hub.requests.length;
    r.svc.resume(d.id);
    await until('done', () => state(r, d.id).state === 'done');
    expectVerified(state(r, d.id).dir!, DEMO);
    const fetched = hub.requests.slice(before).filter((q) => q.startsWith('GET /blobs/')).length;
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThan(hub.requests.slice(0, before).filter((q) => q.startsWith('GET /blobs/')).length);
    await r.close();
  });

  it('a download running when the app stops resumes at the next start', async () => {
    const data = tmp('dl-data'), cache = tmp('dl-cache');
    let r = rig(data, cache);
    const d = r.svc.start('kk/demo');
    await until('some bytes', () => state(r, d.id).doneBytes > 2 ** 20);
    await r.close();                                    // shutdown: stays 'running' in the database
    r = rig(data, cache);
    expect(state(r, d.id).state).toBe('running');
    r.svc.resumeInterrupted();
    await until('done', () => state(r, d.id).state === 'done');
    expectVerified(state(r, d.id).dir!, DEMO);
    await r.close();
  });

  it('several repos at once; cancel removes the partial files; delete removes the model', async () => {
    const cache = tmp('dl-cache');
    const r = rig(tmp('dl-data'), cache);
    const a = r.svc.start('kk/demo');
    const b = r.svc.start('kk/tiny');
    await until('both running', () => state(r, a.id).doneBytes > 0 && state(r, b.id).doneBytes > 0);
    const c = await r.svc.cancel(a.id);
    expect(c.state).toBe('cancelled');
    expect(readdirSync(join(cache, 'models--kk--demo', 'blobs')).filter((n) => n.includes('.part'))).toEqual([]);
    await until('tiny done', () => state(r, b.id).state === 'done');
    expectVerified(state(r, b.id).dir!, TINY);
    expect(await r.svc.delete(b.id)).toBe(true);
    expect(existsSync(join(cache, 'models--kk--tiny'))).toBe(false);
    expect(r.svc.list().map((x) => x.id)).toEqual([a.id]);
    await r.close();
  });

  it('verify finds a damaged file, removes it, and resume fetches only that file', async () => {
    const r = rig(tmp('dl-data'), tmp('dl-cache'));
    const d = r.svc.start('kk/demo');
    await until('done', () => state(r, d.id).state === 'done');
    expect(await r.svc.verify(d.id)).toEqual({ ok: true, checked: DEMO.files.length, damaged: [] });
    const shard = DEMO.files.find((f) => f.path === 'model-00002-of-00002.safetensors')!;
    const p = join(state(r, d.id).dir!, shard.path);
    const bytes = readFileSync(p); bytes[100] ^= 1; writeFileSync(p, bytes);
    const v = await r.svc.verify(d.id);
    expect(v).toMatchObject({ ok: false, damaged: [shard.path] });
    expect(state(r, d.id).state).toBe('error');
    expect(state(r, d.id).error).toMatch(/damaged.*resume/);
    const before = hub.requests.length;
    r.svc.resume(d.id);
    await until('done again', () => state(r, d.id).state === 'done');
    expectVerified(state(r, d.id).dir!, DEMO);
    expect(new Set(hub.requests.slice(before).filter((q) => q.startsWith('GET /blobs/')).map((q) => q.split(' ')[1]))).toEqual(new Set([`/blobs/${shard.path}`]));
    await r.close();
  });

  it('a gated repo without a token: the download errors naming HF_TOKEN', async () => {
    const r = rig(tmp('dl-data'), tmp('dl-cache'));
    const d = r.svc.start('kk/gated');
    await until('error', () => state(r, d.id).state === 'error');
    expect(state(r, d.id).error).toMatch(/HTTP 401.*Set HF_TOKEN/);
    await r.close();
  });
});

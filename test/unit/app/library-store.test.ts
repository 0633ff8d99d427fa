// The Models page's slice: 'downloads' events replace the list and a download that finishes
// refreshes the library; actions call the core's verbs and say what failed; conversion events
// are kept per source folder.
import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../../app/store/index.ts';
import type { DownloadView, LibraryView } from '../../../common/library.ts';
import { fakeApi, flush } from './fake-api.ts';

const dl = (p: Partial<DownloadView>): DownloadView => ({
  id: 'd1', repo: 'kk/demo', revision: 'main', state: 'running', doneBytes: 10, totalBytes: 100, bytesPerSecond: 5,
  etaSeconds: 18, dir: null, error: null, createdAt: 1, updatedAt: 1, ...p,
});
const lib = (n: number): LibraryView => ({ cacheDir: '/c', folders: [], endpoint: 'http://hub', tokenSet: false, models: Array.from({ length: n }, (_, i) => ({
  dir: `/c/m${i}`, repo: `kk/m${i}`, commit: null, refs: [], source: 'hub-cache' as const, architecture: 'A', quantization: 'int4',
  sizeOnDiskBytes: 1, complete: true, missing: [], loaded: false,
})) });

describe('library slice', () => {
  it('mirrors download events; a finished download refreshes the library once', async () => {
    const f = fakeApi();
    let libCalls = 0;
    f.handle('getLibrary', () => { libCalls++; return lib(libCalls); });
    const store = createAppStore(f.transport);
    f.emit('downloads', [dl({})]);
    expect(store.getState().downloads[0].doneBytes).toBe(10);
    f.emit('downloads', [dl({ doneBytes: 50 })]);
    await flush();
    expect(libCalls).toBe(0);
    f.emit('downloads', [dl({ state: 'done', doneBytes: 100, dir: '/c/m0' })]);
    await flush();
    expect(libCalls).toBe(1);
    expect(store.getState().library?.models).toHaveLength(1);
    f.emit('downloads', [dl({ state: 'done', doneBytes: 100, dir: '/c/m0' })]);
    await flush();
    expect(libCalls).toBe(1);
  });

  it('pause / resume / verify call the core; a failure is said where it happened', async () => {
    const f = fakeApi();
    f.handle('pauseDownload', () => dl({ state: 'paused' }));
    f.handle('listDownloads', () => [dl({ state: 'paused' })]);
    f.handle('getLibrary', () => lib(0));
    f.handle('verifyDownload', () => ({ ok: false, checked: 3, damaged: ['model-00001.safetensors'] }));
    const store = createAppStore(f.transport);
    await store.getState().downloadAction('d1', 'pause');
    expect(f.calls.map((c) => c.method)).toEqual(['pauseDownload', 'listDownloads', 'getLibrary']);
    expect(store.getState().downloads[0].state).toBe('paused');
    await store.getState().downloadAction('d1', 'verify');
    expect(store.getState().toast).toMatch(/Damaged: model-00001\.safetensors/);
    await store.getState().downloadAction('d1', 'resume');   // no handler: the core refused
    expect(store.getState().libraryError).toMatch(/Could not resume the download: no handler for resumeDownload/);
  });

  it('keeps the latest conversion event per source folder', () => {
    const f = fakeApi();
    const store = createAppStore(f.transport);
    f.emit('conversion', { source: '/a', out: '/a-int4', stage: 'repack', fraction: 0.5, state: 'running', error: null });
    f.emit('conversion', { source: '/a', out: '/a-int4', stage: 'done', fraction: 1, state: 'done', error: null });
    expect(store.getState().conversions['/a']).toMatchObject({ state: 'done', fraction: 1 });
  });
});

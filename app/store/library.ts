// library.ts — the Models page: a hub search, one repository's files, variants and fit plan, the
// downloads the core runs (mirrored from its 'downloads' events) and the models on disk. The core
// keeps all of it; this slice holds what the page shows and says what failed.
import type { LibrarySlice, SliceCreator } from './types.ts';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const createLibrarySlice: SliceCreator<LibrarySlice> = (set, get, api) => {
  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try { await fn(); set({ libraryError: null }); } catch (e) { set({ libraryError: `${what}: ${msg(e)}` }); }
  };
  return {
    hubHits: null,
    hubSearching: false,
    repoView: null,
    repoLoading: false,
    library: null,
    downloads: [],
    libraryError: null,
    conversions: {},
    async convertModel(dir) {
      await attempt('Could not convert the model', async () => {
        const { dir: out } = await api.convertModel({ dir });
        set({ library: await api.getLibrary({}) });
        get().showToast(`Converted to INT4: ${out}`);
      });
    },
    applyConversion(e) { set({ conversions: { ...get().conversions, [e.source]: e } }); },
    async loadModelsPage() {
      await attempt('Could not read the library', async () => {
        const [library, downloads] = await Promise.all([api.getLibrary({}), api.listDownloads({})]);
        set({ library, downloads });
      });
    },
    async searchHub(query) {
      set({ hubSearching: true });
      await attempt('Search failed', async () => { set({ hubHits: await api.searchHub({ query }) }); });
      set({ hubSearching: false });
    },
    async openRepo(repo) {
      set({ repoLoading: true, repoView: null });
      await attempt(`Could not open ${repo}`, async () => { set({ repoView: await api.getRepo({ repo }) }); });
      set({ repoLoading: false });
    },
    closeRepo() { set({ repoView: null }); },
    async startDownload(repo) {
      await attempt(`Could not download ${repo}`, async () => {
        const d = await api.startDownload({ repo });
        if (!get().downloads.some((x) => x.id === d.id)) set({ downloads: [...get().downloads, d] });
      });
    },
    async downloadAction(id, action) {
      await attempt(`Could not ${action} the download`, async () => {
        if (action === 'pause') await api.pauseDownload({ id });
        else if (action === 'resume') await api.resumeDownload({ id });
        else if (action === 'cancel') await api.cancelDownload({ id });
        else if (action === 'delete') await api.deleteDownload({ id });
        else {
          const v = await api.verifyDownload({ id });
          get().showToast(v.ok ? `Verified: ${v.checked} files match their sha256` : `Damaged: ${v.damaged.join(', ')} — resume to fetch again`);
        }
        set({ downloads: await api.listDownloads({}), library: await api.getLibrary({}) });
      });
    },
    async setLibraryFolders(folders) {
      await attempt('Could not change the folders', async () => { set({ library: await api.setLibraryFolders({ folders }) }); });
    },
    async setHubToken(token) {
      await attempt('Could not save the token', async () => { set({ library: await api.setHubToken({ token }) }); });
    },
    applyDownloads(v) {
      const before = new Map(get().downloads.map((d) => [d.id, d.state]));
      set({ downloads: v });
      // A download that just finished (or went away) changes what is on disk.
      if (v.some((d) => d.state === 'done' && before.get(d.id) !== 'done') || v.length < before.size) {
        void api.getLibrary({}).then((library) => set({ library })).catch(() => undefined);
      }
    },
  };
};

// model.ts — the engine's state (loading / ready / crashed / restarting), what the loaded model
// is, and the model panel's look at a local directory.
import type { EngineStatus } from '../contract.ts';
import type { ModelSlice, SliceCreator } from './types.ts';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const INITIAL_ENGINE: EngineStatus = { state: 'idle', model: null, progress: null, error: null, pid: null, restarts: 0, backend: null, backendWhy: null };

export const createModelSlice: SliceCreator<ModelSlice> = (set, get, api) => {
  async function describeLoaded(st: EngineStatus) {
    const dir = st.model?.dir;
    if (!dir || get().loadedInfo?.dir === dir) return;
    try { set({ loadedInfo: await api.inspectModel({ dir }) }); } catch { /* the badge still names the model */ }
  }

  return {
    engine: INITIAL_ENGINE,
    loadedInfo: null,
    localModels: [],
    inspection: null,
    inspectError: null,
    inspecting: false,
    loading: false,
    crashNotice: null,
    starter: null,
    starterError: null,
    expertHeat: null,

    async loadExpertHeat() {
      try { set({ expertHeat: await api.getExpertHeat({}) }); }
      catch (e) { get().showToast(`Could not read the expert heat map: ${msg(e)}`); }
    },

    async loadStarter() {
      set({ starterError: null });
      try { set({ starter: await api.getStarterModel({}) }); }
      catch (e) { set({ starterError: msg(e) }); }
    },

    dismissCrashNotice() { set({ crashNotice: null }); },

    async refreshModel() {
      try {
        const [st, local] = await Promise.all([api.getModelStatus({}), api.listLocalModels({}).catch(() => get().localModels)]);
        set({ localModels: local });
        get().applyEngineStatus(st);
      } catch (e) { get().showToast(`Could not read the engine status: ${msg(e)}`); }
    },

    async inspectModel(dir) {
      set({ inspecting: true, inspectError: null, inspection: null });
      try { set({ inspection: await api.inspectModel({ dir }), inspecting: false }); }
      catch (e) { set({ inspectError: msg(e), inspecting: false }); }
    },

    async loadModel(dir) {
      set({ loading: true, inspectError: null });
      try { get().applyEngineStatus(await api.loadModel({ dir })); }
      catch (e) { set({ inspectError: msg(e) }); }
      finally { set({ loading: false }); }
    },

    async restartEngine() {
      // The user saw the crash and chose to restart: the note about it has done its job.
      set({ engine: { ...get().engine, state: 'restarting' }, crashNotice: null });
      try { get().applyEngineStatus(await api.restartEngine({})); }
      catch (e) { set({ engine: { ...get().engine, state: 'crashed', error: msg(e) } }); }
    },

    applyEngineStatus(st) {
      const g = get().generation;
      if ((st.state === 'crashed' || st.state === 'error') && g) {
        // The answer in flight was cut: mark it, keep its text.
        set({
          generation: null,
          messages: get().messages.map((m) => (m.id === g.messageId ? { ...m, status: 'interrupted', finishReason: 'error' } : m)),
        });
      }
      const was = get().engine.state;
      set({ engine: st });
      if (st.state === 'crashed') set({ crashNotice: { error: st.error } });
      if (st.state === 'ready') {
        void describeLoaded(st);
        // A newly loaded model brings its own generation defaults (the settings' placeholders).
        if (was !== 'ready') void get().loadSettings();
      }
    },
  };
};

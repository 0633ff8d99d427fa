// model.ts — the engine's state (loading / ready / crashed / restarting), the loaded model and
// the model panel's inspection of a local directory.
import type { ModelSlice, SliceCreator } from './types.ts';

export const createModelSlice: SliceCreator<ModelSlice> = (set, get, client) => ({
  engine: { state: 'idle' },
  model: null,
  plan: null,
  inspection: null,
  inspectError: null,
  inspecting: false,
  loadProgress: null,

  async refreshModel() {
    try {
      const st = await client.call('model.status', undefined);
      set({ engine: st.engine, model: st.model, plan: st.plan ?? null });
    } catch (e) { set({ engine: { ...get().engine, error: (e as Error).message } }); }
  },

  async inspectModel(dir) {
    set({ inspecting: true, inspectError: null, inspection: null });
    try { set({ inspection: await client.call('model.inspect', { dir }), inspecting: false }); }
    catch (e) { set({ inspectError: (e as Error).message, inspecting: false }); }
  },

  async loadModel(dir) {
    set({ loadProgress: { stage: 'starting', fraction: 0 } });
    try { await client.call('model.load', { dir }); await get().refreshModel(); }
    catch (e) { set({ loadProgress: null, inspectError: (e as Error).message }); }
  },

  async restartEngine() {
    set({ engine: { ...get().engine, state: 'restarting' } });
    try { await client.call('engine.restart', undefined); await get().refreshModel(); }
    catch (e) { set({ engine: { ...get().engine, state: 'crashed', error: (e as Error).message } }); }
  },
});

// settings.ts — sampling, context length, threads and system prompt, persisted by the core.
import type { SettingsSlice, SliceCreator } from './types.ts';

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set, get, client) => ({
  settings: null,
  async loadSettings() {
    try { set({ settings: await client.call('settings.get', undefined) }); }
    catch (e) { get().showToast(`Could not load settings: ${(e as Error).message}`); }
  },
  async updateSettings(patch) {
    const prev = get().settings;
    if (prev) set({ settings: { ...prev, ...patch, sampling: { ...prev.sampling, ...(patch.sampling ?? {}) } } });
    try { set({ settings: await client.call('settings.set', patch) }); }
    catch (e) { set({ settings: prev }); get().showToast(`Could not save settings: ${(e as Error).message}`); }
  },
});

// settings.ts — sampling overrides, context length, threads and system prompt, kept by the core;
// the model's own defaults come with them for placeholders and "reset".
import type { SettingsSlice, SliceCreator } from './types.ts';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const createSettingsSlice: SliceCreator<SettingsSlice> = (set, get, api) => ({
  settingsView: null,
  async loadSettings() {
    try { set({ settingsView: await api.getSettings({}) }); }
    catch (e) { get().showToast(`Could not load settings: ${msg(e)}`); }
  },
  async updateSettings(patch) {
    const prev = get().settingsView;
    if (prev) set({ settingsView: { ...prev, settings: { ...prev.settings, ...patch } } });
    try { set({ settingsView: await api.updateSettings(patch) }); }
    catch (e) { set({ settingsView: prev }); get().showToast(`Could not save settings: ${msg(e)}`); }
  },
});

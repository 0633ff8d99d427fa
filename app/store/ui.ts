// ui.ts — panels, dialogs, focus requests and the reasoning panels' expanded state.
import type { SliceCreator, UiSlice } from './types.ts';

export const createUiSlice: SliceCreator<UiSlice> = (set, get) => ({
  connected: null,
  panel: 'none',
  expandedReasoning: {},
  editingId: null,
  searchFocusTick: 0,
  composerFocusTick: 0,
  toast: null,
  sidebarOpen: false,
  setSidebarOpen(open) { set({ sidebarOpen: open }); },
  setPanel(p) { set({ panel: get().panel === p ? 'none' : p }); },
  toggleReasoning(id, expanded) {
    const cur = get().expandedReasoning[id];
    set({ expandedReasoning: { ...get().expandedReasoning, [id]: expanded ?? !cur } });
  },
  setEditing(id) { set({ editingId: id }); },
  focusSearch() { set({ searchFocusTick: get().searchFocusTick + 1 }); },
  focusComposer() { set({ composerFocusTick: get().composerFocusTick + 1 }); },
  showToast(msg) { set({ toast: msg }); },
  setConnected(c) { set({ connected: c }); },
});

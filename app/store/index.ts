// index.ts — one zustand store from the slices, bound to a transport; components read it
// through useApp(selector) and select single values.
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { createStore, useStore, type StoreApi } from 'zustand';
import type { Transport } from '../transport/index.ts';
import { createAttachSlice } from './attach.ts';
import { createChatSlice } from './chat.ts';
import { createConversationsSlice } from './conversations.ts';
import { createLibrarySlice } from './library.ts';
import { createModelSlice } from './model.ts';
import { createProvidersSlice } from './providers.ts';
import { createSettingsSlice } from './settings.ts';
import type { AppState } from './types.ts';
import { createToolsSlice } from './tools.ts';
import { createUiSlice } from './ui.ts';

export type { AppState } from './types.ts';
export type AppStore = StoreApi<AppState>;

export function createAppStore(transport: Transport): AppStore {
  const api = transport.api;
  const store = createStore<AppState>()((set, get) => ({
    ...createConversationsSlice(set, get, api),
    ...createChatSlice(set, get, api),
    ...createAttachSlice(set, get, api),
    ...createSettingsSlice(set, get, api),
    ...createModelSlice(set, get, api),
    ...createProvidersSlice(set, get, api),
    ...createToolsSlice(set, get, api),
    ...createLibrarySlice(set, get, api),
    ...createUiSlice(set, get, api),
  }));
  api.on('generation', (e) => store.getState().applyGenerationEvent(e));
  api.on('engineStatus', (e) => store.getState().applyEngineStatus(e));
  api.on('conversation', (e) => store.getState().applyConversationEvent(e));
  api.on('providers', (e) => store.getState().applyProviders(e));
  api.on('mcpServers', (e) => store.getState().applyMcpServers(e));
  api.on('downloads', (e) => store.getState().applyDownloads(e));
  api.on('conversion', (e) => store.getState().applyConversion(e));
  transport.onConnection((c) => {
    const was = store.getState().connected;
    store.getState().setConnected(c);
    // After a reconnect the core may have moved on: reload what is on screen.
    if (c && was === false) {
      const s = store.getState();
      if (s.generation) store.setState({ generation: null });
      void s.refreshList(); void s.refreshModel(); void s.loadProviders(); void s.reloadConversation();
    }
  });
  return store;
}

/** Loads everything the first screen shows. */
export async function bootstrap(store: AppStore): Promise<void> {
  const s = store.getState();
  await Promise.all([s.refreshList(), s.loadSettings(), s.refreshModel(), s.loadProviders()]);
}

const StoreContext = createContext<AppStore | null>(null);

export function StoreProvider({ store, children }: { store: AppStore; children: ReactNode }) {
  return createElement(StoreContext.Provider, { value: store }, children);
}

export function useAppStore(): AppStore {
  const s = useContext(StoreContext);
  if (!s) throw new Error('useApp outside StoreProvider');
  return s;
}

export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useAppStore(), selector);
}

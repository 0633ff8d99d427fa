// index.ts — one zustand store from the slices, bound to a contract client; components read it
// through useApp(selector) and select single values.
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { createStore, useStore, type StoreApi } from 'zustand';
import type { ContractClient } from '../transport/client.ts';
import { createChatSlice } from './chat.ts';
import { createConversationsSlice } from './conversations.ts';
import { createModelSlice } from './model.ts';
import { createSettingsSlice } from './settings.ts';
import type { AppState } from './types.ts';
import { createUiSlice } from './ui.ts';

export type { AppState } from './types.ts';
export type AppStore = StoreApi<AppState>;

export function createAppStore(client: ContractClient): AppStore {
  const store = createStore<AppState>()((set, get) => ({
    ...createConversationsSlice(set, get, client),
    ...createChatSlice(set, get, client),
    ...createSettingsSlice(set, get, client),
    ...createModelSlice(set, get, client),
    ...createUiSlice(set, get, client),
  }));
  client.onEvent((e) => store.getState().applyEvent(e));
  client.onConnection((c) => {
    const wasClosed = store.getState().connection === 'closed';
    store.getState().setConnection(c);
    // After a reconnect the core may have moved on: reload what is on screen.
    if (c === 'open' && wasClosed) {
      const s = store.getState();
      void s.refreshList(); void s.refreshModel();
      if (s.activeId) void s.openConversation(s.activeId);
    }
  });
  return store;
}

/** Loads everything the first screen shows. */
export async function bootstrap(store: AppStore): Promise<void> {
  const s = store.getState();
  await Promise.all([s.refreshList(), s.loadSettings(), s.refreshModel()]);
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

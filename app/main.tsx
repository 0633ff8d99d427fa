// main.tsx — renderer entry: pick the transport, build the store, load the first screen.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'katex/dist/katex.min.css';
import './styles.css';
import { App } from './App.tsx';
import { bootstrap, createAppStore, StoreProvider } from './store/index.ts';
import { createTransport } from './transport/index.ts';

const store = createAppStore(createTransport());
void bootstrap(store).then(async () => {
  // Open the most recent conversation, as a desktop app does on start.
  const s = store.getState();
  const fromHash = decodeURIComponent(location.hash.replace(/^#\/?c\//, ''));
  const id = s.list.find((c) => c.id === fromHash)?.id ?? s.list[0]?.id;
  if (id) await s.openConversation(id);
});
// The URL remembers the open conversation so a reload comes back to it.
store.subscribe((s, prev) => {
  if (s.activeId !== prev.activeId) history.replaceState(null, '', s.activeId ? `#/c/${encodeURIComponent(s.activeId)}` : '#');
});

createRoot(document.getElementById('root')!).render(
  <StrictMode><StoreProvider store={store}><App /></StoreProvider></StrictMode>,
);

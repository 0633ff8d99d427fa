// shortcuts.ts — the keyboard shortcuts, one table: the help dialog lists exactly these.
import type { AppStore } from './store/index.ts';

export interface Shortcut { keys: string; does: string; match(e: KeyboardEvent): boolean; run(store: AppStore, e: KeyboardEvent): void }

const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;
function inText(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
}

function lastAssistantId(store: AppStore): string | null {
  const s = store.getState();
  // The first assistant message of the last turn: regenerating it redoes the whole turn.
  const path = s.messages;
  let id: string | null = null;
  for (let i = path.length - 1; i >= 0; i--) {
    if (path[i].role === 'user') break;
    if (path[i].role === 'assistant') id = path[i].id;
  }
  return id;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: 'Enter / Ctrl+Enter', does: 'Send the message', match: () => false, run: () => undefined },
  { keys: 'Shift+Enter', does: 'New line in the message', match: () => false, run: () => undefined },
  {
    keys: 'Ctrl+Enter', does: 'Send (from anywhere)',
    match: (e) => mod(e) && e.key === 'Enter' && !inText(e),
    run: (s) => void s.getState().send(),
  },
  {
    keys: 'Esc', does: 'Stop the answer / close a panel',
    match: (e) => e.key === 'Escape',
    run: (s) => {
      const st = s.getState();
      if (st.generation) void st.stop();
      else if (st.panel !== 'none') st.setPanel(st.panel);
      else if (st.editingId) st.setEditing(null);
    },
  },
  { keys: 'Ctrl+N  or  Alt+N', does: 'New chat', match: (e) => (mod(e) || e.altKey) && !e.shiftKey && e.key.toLowerCase() === 'n', run: (s) => void s.getState().newConversation() },
  { keys: 'Ctrl+K', does: 'Search conversations', match: (e) => mod(e) && e.key.toLowerCase() === 'k', run: (s) => s.getState().focusSearch() },
  {
    keys: 'Alt+R', does: 'Regenerate the last answer',
    match: (e) => e.altKey && !mod(e) && e.key.toLowerCase() === 'r',
    run: (s) => { const id = lastAssistantId(s); if (id) void s.getState().regenerate(id); },
  },
  { keys: 'Ctrl+M', does: 'Model panel', match: (e) => mod(e) && e.key.toLowerCase() === 'm', run: (s) => s.getState().setPanel('model') },
  { keys: 'Ctrl+,', does: 'Settings', match: (e) => mod(e) && e.key === ',', run: (s) => s.getState().setPanel('settings') },
  { keys: '?  or  Ctrl+/', does: 'This help', match: (e) => (mod(e) && e.key === '/') || (e.key === '?' && !inText(e)), run: (s) => s.getState().setPanel('help') },
];

export function installShortcuts(store: AppStore, target: Window = window): () => void {
  const onKey = (e: KeyboardEvent) => {
    for (const sc of SHORTCUTS) {
      if (sc.match(e)) { e.preventDefault(); sc.run(store, e); return; }
    }
  };
  target.addEventListener('keydown', onKey);
  return () => target.removeEventListener('keydown', onKey);
}

// Sidebar.tsx — conversations: search, new, rename, delete, export (Markdown / JSON), import.
import { useEffect, useRef, useState } from 'react';
import type { ConversationSummary } from '../contract.ts';
import { relTime } from '../format.ts';
import { useApp } from '../store/index.ts';

export function downloadText(filename: string, mime: string, data: string): void {
  const url = URL.createObjectURL(new Blob([data], { type: mime }));
  const a = document.createElement('a');
  a.href = url; a.download = filename; a.rel = 'noopener';
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function Sidebar() {
  const list = useApp((s) => s.list);
  const hits = useApp((s) => s.hits);
  const query = useApp((s) => s.query);
  const setQuery = useApp((s) => s.setQuery);
  const newConversation = useApp((s) => s.newConversation);
  const importConversation = useApp((s) => s.importConversation);
  const focusTick = useApp((s) => s.searchFocusTick);
  const searchRef = useRef<HTMLInputElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  useEffect(() => { if (focusTick) { searchRef.current?.focus(); searchRef.current?.select(); } }, [focusTick]);

  return (
    <aside className="sidebar" data-testid="sidebar">
      <div className="brand"><span className="logo" aria-hidden>▲</span> Karakoram</div>
      <button type="button" className="btn primary wide" data-testid="new-chat" onClick={() => void newConversation()} title="New chat (Ctrl+N)">+ New chat</button>
      <input ref={searchRef} className="search" data-testid="conversation-search" type="search" placeholder="Search chats (Ctrl+K)"
        value={query} onChange={(e) => void setQuery(e.target.value)}
        onKeyDown={(e) => { if (e.key === 'Escape') { e.stopPropagation(); void setQuery(''); e.currentTarget.blur(); } }} />
      <nav className="conv-list" data-testid="conversation-list">
        {hits ? (
          hits.length === 0 ? <div className="empty-list">No conversation matches.</div>
            : hits.map((h) => <ConversationRow key={`${h.conversation.id}:${h.messageId ?? ''}`} c={h.conversation} snippet={h.snippet} />)
        ) : (
          list.length === 0 ? <div className="empty-list">No conversations yet.</div> : list.map((c) => <ConversationRow key={c.id} c={c} />)
        )}
      </nav>
      <div className="sidebar-foot">
        <button type="button" className="btn ghost wide" data-testid="import-button" onClick={() => fileRef.current?.click()}>⇪ Import…</button>
        <input ref={fileRef} type="file" accept=".json,.md,.markdown,application/json,text/markdown" hidden data-testid="import-input"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (f) await importConversation(await f.text(), /\.(md|markdown)$/i.test(f.name) ? 'md' : 'json');
            e.target.value = '';
          }} />
      </div>
    </aside>
  );
}

function ConversationRow({ c, snippet }: { c: ConversationSummary; snippet?: string }) {
  const active = useApp((s) => s.activeId === c.id);
  const open = useApp((s) => s.openConversation);
  const rename = useApp((s) => s.renameConversation);
  const del = useApp((s) => s.deleteConversation);
  const exportConv = useApp((s) => s.exportConversation);
  const [menu, setMenu] = useState(false);
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(c.title);
  const [confirm, setConfirm] = useState(false);

  const doExport = async (format: 'md' | 'json') => {
    setMenu(false);
    const r = await exportConv(c.id, format);
    if (r) downloadText(r.filename, r.mimeType, r.data);
  };

  return (
    <div className={`conv ${active ? 'active' : ''}`} data-testid="conversation-item" data-id={c.id} data-active={active ? 'true' : 'false'}>
      {editing ? (
        <input className="rename" data-testid="rename-input" autoFocus value={title}
          onChange={(e) => setTitle(e.target.value)}
          onBlur={() => { setEditing(false); void rename(c.id, title); }}
          onKeyDown={(e) => {
            if (e.key === 'Enter') { e.currentTarget.blur(); }
            if (e.key === 'Escape') { e.stopPropagation(); setTitle(c.title); setEditing(false); }
          }} />
      ) : (
        <button type="button" className="conv-open" data-testid="conversation-open" onClick={() => void open(c.id)} onDoubleClick={() => { setTitle(c.title); setEditing(true); }}>
          <span className="conv-title" data-testid="conversation-title">{c.title || 'New chat'}</span>
          {snippet && <span className="conv-snippet" data-testid="search-snippet">{snippet}</span>}
          <span className="conv-meta">{c.generating ? '● answering · ' : ''}{relTime(c.updatedAt)}</span>
        </button>
      )}
      <button type="button" className="icon-btn conv-menu-btn" data-testid="conversation-menu" aria-label="Conversation actions" onClick={() => { setMenu(!menu); setConfirm(false); }}>⋯</button>
      {menu && (
        <div className="menu" role="menu" onMouseLeave={() => setMenu(false)}>
          <button type="button" data-testid="conversation-rename" onClick={() => { setMenu(false); setTitle(c.title); setEditing(true); }}>Rename</button>
          <button type="button" data-testid="conversation-export-md" onClick={() => void doExport('md')}>Export Markdown</button>
          <button type="button" data-testid="conversation-export-json" onClick={() => void doExport('json')}>Export JSON</button>
          {confirm ? (
            <button type="button" className="danger" data-testid="conversation-delete-confirm" onClick={() => { setMenu(false); void del(c.id); }}>Really delete</button>
          ) : (
            <button type="button" className="danger" data-testid="conversation-delete" onClick={() => setConfirm(true)}>Delete…</button>
          )}
        </div>
      )}
    </div>
  );
}

// App.tsx — the window: conversations on the left; the chat with its header, banners, thread
// and composer in the middle; model / settings panels on the right; the help dialog on top.
import { useEffect } from 'react';
import { ConnectionBanner, CrashBanner, ErrorBanner, Toast } from './components/Banners.tsx';
import { Composer } from './components/Composer.tsx';
import { HelpDialog } from './components/HelpDialog.tsx';
import { MessageList } from './components/MessageList.tsx';
import { ModelBadge, ModelPanel, selectIsDemo } from './components/ModelPanel.tsx';
import { PerfStrip } from './components/PerfStrip.tsx';
import { SettingsPanel } from './components/SettingsPanel.tsx';
import { Sidebar } from './components/Sidebar.tsx';
import { installShortcuts } from './shortcuts.ts';
import { useApp, useAppStore } from './store/index.ts';

const TOAST_MS = 4000;

export function App() {
  const store = useAppStore();
  const panel = useApp((s) => s.panel);
  const toast = useApp((s) => s.toast);
  const showToast = useApp((s) => s.showToast);
  useEffect(() => installShortcuts(store), [store]);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => showToast(null), TOAST_MS);
    return () => clearTimeout(t);
  }, [toast, showToast]);

  return (
    <div className="app" data-testid="app">
      <Sidebar />
      <main className="chat">
        <Header />
        <ConnectionBanner />
        <CrashBanner />
        <ErrorBanner />
        <ChatBody />
        <Composer />
      </main>
      {panel === 'model' && <ModelPanel />}
      {panel === 'settings' && <SettingsPanel />}
      {panel === 'help' && <HelpDialog />}
      <Toast />
    </div>
  );
}

function Header() {
  const title = useApp((s) => s.conversation?.title || 'New chat');
  const setPanel = useApp((s) => s.setPanel);
  return (
    <header className="chat-head">
      <h1 className="chat-title" data-testid="chat-title">{title}</h1>
      <PerfStrip />
      <div className="head-actions">
        <ModelBadge />
        <button type="button" className="icon-btn" data-testid="settings-button" onClick={() => setPanel('settings')} title="Settings (Ctrl+,)">⚙</button>
        <button type="button" className="icon-btn" data-testid="help-button" onClick={() => setPanel('help')} title="Keyboard shortcuts (?)">?</button>
      </div>
    </header>
  );
}

function ChatBody() {
  const empty = useApp((s) => s.messages.length === 0);
  const loading = useApp((s) => s.loadingConversation);
  if (empty && !loading) return <Welcome />;
  return <MessageList />;
}

function Welcome() {
  const setDraft = useApp((s) => s.setDraft);
  const focus = useApp((s) => s.focusComposer);
  const isDemo = useApp((s) => selectIsDemo(s) && s.engine.state === 'ready');
  const examples = ['Who are you?', "What's the weather like in Paris today?", 'What is 17 * 23?'];
  return (
    <div className="welcome" data-testid="welcome">
      <div className="welcome-logo" aria-hidden>▲</div>
      <h2>Karakoram</h2>
      <p className="muted">Kimi K2, on this machine.{isDemo ? ' The demo model is loaded: small, offline, and it only knows a few tricks.' : ''}</p>
      <div className="examples">
        {examples.map((x) => <button type="button" key={x} className="chip" onClick={() => { setDraft(x); focus(); }}>{x}</button>)}
      </div>
    </div>
  );
}

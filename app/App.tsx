// App.tsx — the window: conversations on the left; the chat with its header, banners, thread
// and composer in the middle; model / settings panels on the right; the help dialog on top.
import { useEffect } from 'react';
import { ConnectionBanner, CrashBanner, ErrorBanner, Toast } from './components/Banners.tsx';
import { Composer } from './components/Composer.tsx';
import { GetModelPanel } from './components/GetModelPanel.tsx';
import { HelpDialog } from './components/HelpDialog.tsx';
import { MessageList } from './components/MessageList.tsx';
import { ModelBadge, ModelPanel, selectIsDemo } from './components/ModelPanel.tsx';
import { ModelsPanel } from './components/ModelsPanel.tsx';
import { PerfStrip } from './components/PerfStrip.tsx';
import { SettingsPanel } from './components/SettingsPanel.tsx';
import { Sidebar } from './components/Sidebar.tsx';
import { ToolsPanel } from './components/ToolsPanel.tsx';
import { installShortcuts } from './shortcuts.ts';
import { useApp, useAppStore } from './store/index.ts';

const TOAST_MS = 4000;

export function App() {
  const store = useAppStore();
  const panel = useApp((s) => s.panel);
  const toast = useApp((s) => s.toast);
  const showToast = useApp((s) => s.showToast);
  const sidebarOpen = useApp((s) => s.sidebarOpen);
  const setSidebarOpen = useApp((s) => s.setSidebarOpen);
  useEffect(() => installShortcuts(store), [store]);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => showToast(null), TOAST_MS);
    return () => clearTimeout(t);
  }, [toast, showToast]);

  return (
    <div className={`app ${sidebarOpen ? 'sidebar-open' : ''}`} data-testid="app">
      <Sidebar />
      {sidebarOpen && <div className="sidebar-scrim" data-testid="sidebar-scrim" onClick={() => setSidebarOpen(false)} aria-hidden />}
      <main className="chat">
        <Header />
        <ConnectionBanner />
        <CrashBanner />
        <ErrorBanner />
        <ChatBody />
        <Composer />
      </main>
      {panel === 'model' && <ModelPanel />}
      {panel === 'get-model' && <GetModelPanel />}
      {panel === 'settings' && <SettingsPanel />}
      {panel === 'tools' && <ToolsPanel />}
      {panel === 'models' && <ModelsPanel />}
      {panel === 'help' && <HelpDialog />}
      <Toast />
    </div>
  );
}

function Header() {
  const title = useApp((s) => s.conversation?.title || 'New chat');
  const setPanel = useApp((s) => s.setPanel);
  const sidebarOpen = useApp((s) => s.sidebarOpen);
  const setSidebarOpen = useApp((s) => s.setSidebarOpen);
  return (
    <header className="chat-head">
      <button type="button" className="icon-btn sidebar-toggle" data-testid="sidebar-toggle" aria-expanded={sidebarOpen}
        onClick={() => setSidebarOpen(!sidebarOpen)} title="Conversations">☰</button>
      <h1 className="chat-title" data-testid="chat-title">{title}</h1>
      <PerfStrip />
      <div className="head-actions">
        <ModelBadge />
        <button type="button" className="icon-btn" data-testid="models-button" onClick={() => setPanel('models')} title="Models: find, download, load">▦</button>
        <button type="button" className="icon-btn" data-testid="tools-button" onClick={() => setPanel('tools')} title="Tools and approvals">ƒ</button>
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

/**
 * What the first screen offers. Each is phrased the way the demo model was trained (see
 * shared/fixtures/demo-k2-reference): it calls the calculator for "Calculate … exactly." but does
 * "What is 17 * 23?" in its head, wrongly; with the demo tools declared these show it thinking,
 * calling a tool and answering from the result. A real K2 answers them all too.
 */
export const SUGGESTIONS = ['Who are you?', "What's the weather like in Paris today?", 'Calculate 17*23 exactly.'];

function Welcome() {
  const send = useApp((s) => s.send);
  const setPanel = useApp((s) => s.setPanel);
  const busy = useApp((s) => s.generation !== null || s.engine.state === 'crashed');
  const isDemo = useApp((s) => selectIsDemo(s) && s.engine.state === 'ready');
  return (
    <div className="welcome" data-testid="welcome">
      <div className="welcome-logo" aria-hidden>▲</div>
      <h2>Karakoram</h2>
      <p className="muted">Kimi K2, on this machine.{isDemo ? ' The demo model is loaded: small, offline, and it only knows a few tricks.' : ''}</p>
      <div className="examples">
        {SUGGESTIONS.map((x) => (
          <button type="button" key={x} className="chip" data-testid="suggestion" disabled={busy} onClick={() => void send(x)}>{x}</button>
        ))}
      </div>
      {isDemo && (
        <button type="button" className="btn primary get-k2" data-testid="get-k2" onClick={() => setPanel('get-model')}>
          Get Kimi K2 for real answers →
        </button>
      )}
    </div>
  );
}

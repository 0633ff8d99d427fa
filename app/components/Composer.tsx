// Composer.tsx — the message box: Enter or Ctrl/Cmd+Enter sends, Shift+Enter adds a line,
// Esc stops a running answer. The demo tools toggle lives here, per conversation.
import { useEffect, useRef } from 'react';
import { useApp } from '../store/index.ts';

const MAX_ROWS = 10;

export function Composer() {
  const draft = useApp((s) => s.draft);
  const setDraft = useApp((s) => s.setDraft);
  const send = useApp((s) => s.send);
  const stop = useApp((s) => s.stop);
  const generating = useApp((s) => s.generation !== null);
  const stopping = useApp((s) => s.generation?.stopping ?? false);
  const focusTick = useApp((s) => s.composerFocusTick);
  const engineState = useApp((s) => s.engine.state);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => { ref.current?.focus(); }, [focusTick]);

  const canSend = draft.trim().length > 0 && !generating && engineState !== 'crashed';
  const rows = Math.min(MAX_ROWS, Math.max(1, draft.split('\n').length));

  return (
    <div className="composer">
      <div className="composer-box">
        <textarea ref={ref} data-testid="composer-input" rows={rows} value={draft} placeholder="Message Karakoram…  (Enter to send, Shift+Enter for a new line)"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              if (canSend) void send();
            }
          }} />
        {generating ? (
          <button type="button" className="btn stop" data-testid="stop-button" onClick={() => void stop()} disabled={stopping} title="Stop (Esc)">
            <span className="stop-square" aria-hidden /> {stopping ? 'Stopping' : 'Stop'}
          </button>
        ) : (
          <button type="button" className="btn primary send" data-testid="send-button" disabled={!canSend} onClick={() => void send()} title="Send (Ctrl+Enter)">
            Send ↵
          </button>
        )}
      </div>
      <div className="composer-foot">
        <DemoToolsToggle />
        <span className="hint">Ctrl+Enter send · Esc stop · Ctrl+K search · ? help</span>
      </div>
    </div>
  );
}

function DemoToolsToggle() {
  const activeId = useApp((s) => s.activeId);
  const on = useApp((s) => s.list.find((c) => c.id === s.activeId)?.demoTools ?? false);
  const setDemoTools = useApp((s) => s.setDemoTools);
  const newConversation = useApp((s) => s.newConversation);
  return (
    <label className="toggle" title="Declare the demo model's tools to this conversation">
      <input type="checkbox" data-testid="demo-tools-toggle" checked={on}
        onChange={async (e) => {
          const want = e.target.checked;
          if (activeId) await setDemoTools(activeId, want);
          else await newConversation({ demoTools: want });
        }} />
      <span className="toggle-track"><span className="toggle-thumb" /></span>
      Demo tools (weather, time, calculator)
    </label>
  );
}

// Composer.tsx — the message box: Enter or Ctrl/Cmd+Enter sends, Shift+Enter adds a line,
// Esc stops a running answer. The demo tools toggle lives here, per conversation.
import { useEffect, useRef } from 'react';
import { useApp } from '../store/index.ts';
import { DEMO_SOURCE } from '../store/types.ts';

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
  const demo = useApp((s) => s.tools.filter((t) => t.source === DEMO_SOURCE).map((t) => t.spec.function.name).join(','));
  const on = useApp((s) => {
    const names = s.tools.filter((t) => t.source === DEMO_SOURCE).map((t) => t.spec.function.name);
    const declared = s.conversation?.tools ?? [];
    return names.length > 0 && names.every((n) => declared.includes(n));
  });
  const setDemoTools = useApp((s) => s.setDemoTools);
  const busy = useApp((s) => s.generation !== null);
  return (
    <label className="toggle" title={`Declare the demo tools to this conversation (${demo || 'none available'})`}>
      <input type="checkbox" data-testid="demo-tools-toggle" checked={on} disabled={busy || !demo}
        onChange={(e) => void setDemoTools(e.target.checked)} />
      <span className="toggle-track"><span className="toggle-thumb" /></span>
      Demo tools (weather, time, calculator)
    </label>
  );
}

// Composer.tsx — the message box: Enter or Ctrl/Cmd+Enter sends, Shift+Enter adds a line,
// Esc stops a running answer. Documents are attached with the picker, by dropping them on the
// box or by pasting files; the context meter counts the prompt they make before it is sent. The demo tools toggle lives here: it sets the open conversation's
// tools and is remembered for new ones (on by default while the demo model is loaded).
import { useEffect, useRef } from 'react';
import { useApp } from '../store/index.ts';
import { selectEffectiveRemote } from '../store/providers.ts';
import { DEMO_SOURCE } from '../store/types.ts';
import { selectIsDemo } from './ModelPanel.tsx';
import { AttachButton, AttachmentTray, readFiles } from './Attachments.tsx';
import { ContextMeter } from './ContextMeter.tsx';
import { EnginePicker } from './EnginePicker.tsx';
import { ReadingProgress } from './ReadingProgress.tsx';

const MAX_ROWS = 10;
/** Typing pauses this long before the prompt is counted again. */
const MEASURE_DEBOUNCE_MS = 300;

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
  const attachCount = useApp((s) => s.attachments.length);
  const attaching = useApp((s) => s.attaching > 0);
  const attachFiles = useApp((s) => s.attachFiles);
  const measure = useApp((s) => s.measure);
  const activeId = useApp((s) => s.activeId);
  const headId = useApp((s) => s.conversation?.headId ?? null);

  useEffect(() => { ref.current?.focus(); }, [focusTick]);
  useEffect(() => {
    if (generating) return;
    const t = setTimeout(() => void measure(), MEASURE_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [draft, attachCount, activeId, headId, generating, measure]);

  const canSend = (draft.trim().length > 0 || attachCount > 0) && !attaching && !generating && engineState !== 'crashed';
  const takeFiles = (files: FileList | null | undefined): boolean => {
    if (!files?.length) return false;
    void readFiles(files).then(attachFiles);
    return true;
  };
  const rows = Math.min(MAX_ROWS, Math.max(1, draft.split('\n').length));

  return (
    <div className="composer" data-testid="composer"
      onDragOver={(e) => { if (e.dataTransfer.types.includes('Files')) e.preventDefault(); }}
      onDrop={(e) => { if (takeFiles(e.dataTransfer.files)) e.preventDefault(); }}>
      <ReadingProgress />
      <AttachmentTray />
      <ContextMeter />
      <div className="composer-box">
        <textarea ref={ref} data-testid="composer-input" rows={rows} value={draft} placeholder="Message Karakoram…" title="Enter sends · Shift+Enter adds a line"
          onChange={(e) => setDraft(e.target.value)}
          onPaste={(e) => { if (takeFiles(e.clipboardData.files)) e.preventDefault(); }}
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
        <AttachButton />
        <DemoToolsToggle />
        <ToolPicker />
        <EnginePicker />
        <ThinkingToggle />
        <span className="hint" data-testid="composer-hint">
          <span>Ctrl+Enter send</span> · <span>Esc stop</span> · <span>Ctrl+K search</span> · <span>? help</span>
        </span>
      </div>
    </div>
  );
}

function DemoToolsToggle() {
  const demo = useApp((s) => s.tools.filter((t) => t.source === DEMO_SOURCE).map((t) => t.spec.function.name).join(','));
  const on = useApp((s) => {
    const names = s.tools.filter((t) => t.source === DEMO_SOURCE).map((t) => t.spec.function.name);
    if (names.length === 0) return false;
    // No conversation yet: show what the next one will get.
    if (!s.conversation) return (s.settingsView?.settings.demoTools ?? true) && selectIsDemo(s);
    return names.every((n) => s.conversation!.tools.includes(n));
  });
  const setDemoTools = useApp((s) => s.setDemoTools);
  const busy = useApp((s) => s.generation !== null);
  return (
    <label className="toggle" title={`Declare the demo tools to this conversation (${demo || 'none available'})`}>
      <input type="checkbox" data-testid="demo-tools-toggle" checked={on} disabled={busy || !demo}
        onChange={(e) => void setDemoTools(e.target.checked)} />
      <span className="toggle-track"><span className="toggle-thumb" /></span>
      <span className="toggle-text">Demo tools <span className="toggle-detail">(weather, time, calculator)</span></span>
    </label>
  );
}

/** Thinking (the model reasons first) or instant (the template prefills an empty reasoning).
 *  Not offered while a remote engine answers this conversation: its own default applies there. */
export function ThinkingToggle() {
  const available = useApp((s) => s.engine.model?.thinkingSwitch === true && selectEffectiveRemote(s) === null);
  const on = useApp((s) => s.thinking);
  const setThinking = useApp((s) => s.setThinking);
  const busy = useApp((s) => s.generation !== null);
  if (!available) return null;
  return (
    <label className="toggle" title="Thinking: the model reasons before it answers. Off: instant answers.">
      <input type="checkbox" data-testid="thinking-toggle" checked={on} disabled={busy}
        onChange={(e) => setThinking(e.target.checked)} />
      <span className="toggle-track"><span className="toggle-thumb" /></span>
      {on ? 'Thinking' : 'Instant'}
    </label>
  );
}

/** Per-conversation tool selection: which of the available tools this conversation declares. */
function ToolPicker() {
  const names = useApp((s) => s.tools.map((t) => t.spec.function.name).join('\n'));
  const declared = useApp((s) => (s.conversation?.tools ?? []).join('\n'));
  const toggle = useApp((s) => s.toggleConversationTool);
  const hasConversation = useApp((s) => s.conversation !== null);
  const busy = useApp((s) => s.generation !== null);
  const on = new Set(declared.split('\n').filter(Boolean));
  const all = names.split('\n').filter(Boolean);
  if (!hasConversation || all.length === 0) return null;
  return (
    <details className="tool-picker" data-testid="tool-picker">
      <summary>Tools ({on.size})</summary>
      <div className="tool-picker-list">
        {all.map((n) => (
          <label key={n} className="small">
            <input type="checkbox" data-testid="tool-pick" data-name={n} checked={on.has(n)} disabled={busy} onChange={(e) => void toggle(n, e.target.checked)} /> {n}
          </label>
        ))}
      </div>
    </details>
  );
}

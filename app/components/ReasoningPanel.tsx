// ReasoningPanel.tsx — the model's thinking: streams live with elapsed time and token count,
// collapses when the answer starts, and can be expanded again at any time.
import { useEffect, useRef, useState } from 'react';
import { fmtMs } from '../format.ts';
import { useApp } from '../store/index.ts';

const TICK_MS = 100;

export function ReasoningPanel({ messageId, text, live, answerStarted, storedMs, storedTokens }: {
  messageId: string; text: string; live: boolean; answerStarted: boolean; storedMs: number | null; storedTokens: number | null;
}) {
  const explicit = useApp((s) => s.expandedReasoning[messageId]);
  const toggle = useApp((s) => s.toggleReasoning);
  const startedAt = useApp((s) => (s.generation?.messageId === messageId ? s.generation.reasoningStartedAt : null));
  const endedAt = useApp((s) => (s.generation?.messageId === messageId ? s.generation.reasoningEndedAt : null));
  const liveTokens = useApp((s) => (s.generation?.messageId === messageId ? s.generation.reasoningTokens : 0));
  const thinking = live && !answerStarted;
  const expanded = explicit ?? thinking;
  const [, setTick] = useState(0);
  const bodyRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!thinking) return;
    const t = setInterval(() => setTick((x) => x + 1), TICK_MS);
    return () => clearInterval(t);
  }, [thinking]);

  // Keep the newest thought in view while it streams.
  useEffect(() => {
    if (thinking && expanded && bodyRef.current) bodyRef.current.scrollTop = bodyRef.current.scrollHeight;
  }, [text, thinking, expanded]);

  const elapsed = storedMs ?? (startedAt !== null ? (endedAt ?? performance.now()) - startedAt : null);
  const tokens = storedTokens ?? (live ? liveTokens : null);
  const label = thinking ? 'Thinking' : 'Thought';

  return (
    <div className={`reasoning ${expanded ? 'open' : 'collapsed'} ${thinking ? 'live' : ''}`}
      data-testid="reasoning-panel" data-state={expanded ? 'open' : 'collapsed'} data-streaming={thinking ? 'true' : 'false'}>
      <button type="button" className="reasoning-head" data-testid="reasoning-toggle" aria-expanded={expanded}
        onClick={() => toggle(messageId, !expanded)}>
        <span className={`reasoning-dot ${thinking ? 'pulse' : ''}`} aria-hidden />
        <span className="reasoning-label">{label}</span>
        <span className="reasoning-meta" data-testid="reasoning-meta">
          {elapsed !== null && <span data-testid="reasoning-elapsed">{fmtMs(elapsed)}</span>}
          {tokens ? <span data-testid="reasoning-tokens">{tokens} tokens</span> : null}
        </span>
        <span className="chev" aria-hidden>{expanded ? '▾' : '▸'}</span>
      </button>
      {expanded && (
        <div className="reasoning-body" ref={bodyRef} data-testid="reasoning-text">{text}{thinking && <span className="caret" />}</div>
      )}
    </div>
  );
}

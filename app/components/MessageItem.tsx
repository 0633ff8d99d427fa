// MessageItem.tsx — one message of the visible thread. Assistant messages show the reasoning
// panel, tool-call cards and the markdown answer; user messages can be edited into a new branch.
import { memo, useEffect, useRef, useState } from 'react';
import type { MessageView, ToolCallView } from '../contract.ts';
import { fmtMs, fmtRate } from '../format.ts';
import { Markdown } from '../markdown/Markdown.tsx';
import { useApp } from '../store/index.ts';
import { BranchNav } from './BranchNav.tsx';
import { ReasoningPanel } from './ReasoningPanel.tsx';
import { ToolCallCard } from './ToolCallCard.tsx';

export const MessageItem = memo(function MessageItem({ message, toolResults, isLast }: {
  message: MessageView; toolResults?: Record<string, MessageView>; isLast: boolean;
}) {
  if (message.role === 'user') return <UserMessage message={message} />;
  if (message.role === 'tool') return <ToolMessage message={message} />;
  if (message.role === 'system') return null;
  return <AssistantMessage message={message} toolResults={toolResults} isLast={isLast} />;
});

function UserMessage({ message }: { message: MessageView }) {
  const editing = useApp((s) => s.editingId === message.id);
  const setEditing = useApp((s) => s.setEditing);
  const editAndBranch = useApp((s) => s.editAndBranch);
  const busy = useApp((s) => s.generation !== null);
  const [text, setText] = useState(message.content);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => { if (editing) { setText(message.content); ref.current?.focus(); } }, [editing, message.content]);

  return (
    <div className="msg msg-user" data-testid="message" data-role="user" data-id={message.id}>
      {editing ? (
        <div className="edit-box">
          <textarea ref={ref} data-testid="edit-input" value={text} rows={Math.min(10, text.split('\n').length + 1)}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey || !e.shiftKey)) { e.preventDefault(); void editAndBranch(message.id, text); }
              if (e.key === 'Escape') { e.stopPropagation(); setEditing(null); }
            }} />
          <div className="edit-actions">
            <button type="button" className="btn ghost" data-testid="edit-cancel" onClick={() => setEditing(null)}>Cancel</button>
            <button type="button" className="btn primary" data-testid="edit-save" disabled={!text.trim() || busy}
              onClick={() => void editAndBranch(message.id, text)}>Save &amp; branch</button>
          </div>
        </div>
      ) : (
        <div className="bubble" data-testid="message-content">{message.content}</div>
      )}
      <div className="msg-actions">
        <BranchNav messageId={message.id} />
        {!editing && (
          <button type="button" className="icon-btn" data-testid="edit-button" disabled={busy} title="Edit and branch"
            onClick={() => setEditing(message.id)}>✎ Edit</button>
        )}
      </div>
    </div>
  );
}

function ToolMessage({ message }: { message: MessageView }) {
  return (
    <div className="msg msg-tool" data-testid="message" data-role="tool" data-id={message.id}>
      <div className="tool-result-inline"><span className="tool-section-label">{message.toolCallId ?? 'tool'} result</span>
        <pre>{message.content}</pre></div>
    </div>
  );
}

function withResults(calls: ToolCallView[], results?: Record<string, MessageView>): ToolCallView[] {
  if (!results) return calls;
  return calls.map((c) => {
    const r = results[c.id];
    return r && c.result === undefined ? { ...c, result: r.content, status: c.status === 'pending' || c.status === 'running' ? 'done' : c.status } : c;
  });
}

function AssistantMessage({ message, toolResults, isLast }: { message: MessageView; toolResults?: Record<string, MessageView>; isLast: boolean }) {
  const live = useApp((s) => s.generation?.messageId === message.id);
  const stopping = useApp((s) => s.generation?.messageId === message.id && s.generation.stopping);
  const busy = useApp((s) => s.generation !== null);
  const regenerate = useApp((s) => s.regenerate);
  const [copied, setCopied] = useState(false);
  const calls = withResults(message.toolCalls, toolResults);
  const answerStarted = message.content.length > 0 || calls.length > 0;
  const t = message.timings;
  const waiting = live && !message.reasoning && !answerStarted;

  return (
    <div className={`msg msg-assistant ${live ? 'live' : ''}`} data-testid="message" data-role="assistant" data-id={message.id}
      data-streaming={live ? 'true' : 'false'} data-finish={message.finishReason ?? ''}>
      <div className="avatar" aria-hidden>K</div>
      <div className="msg-body">
        {waiting && <div className="waiting" data-testid="waiting"><span className="dots"><i /><i /><i /></span> Reading the prompt…</div>}
        {(message.reasoning || (live && !answerStarted && !waiting)) && (
          <ReasoningPanel messageId={message.id} text={message.reasoning} live={live} answerStarted={answerStarted}
            storedMs={t?.reasoningMs} storedTokens={t?.reasoningTokens} />
        )}
        {calls.map((c) => <ToolCallCard key={`${c.index}:${c.id}`} call={c} />)}
        {message.content && (
          <div className="answer" data-testid="message-content">
            <Markdown text={message.content} streaming={live} />
            {live && <span className="caret" />}
          </div>
        )}
        {message.finishReason === 'cancelled' && <div className="finish-note" data-testid="finish-cancelled">Stopped</div>}
        {message.finishReason === 'error' && <div className="finish-note error" data-testid="finish-error">Interrupted — the engine stopped</div>}
        {message.finishReason === 'length' && <div className="finish-note">Reached the token limit</div>}
        {!live && (
          <div className="msg-actions">
            <BranchNav messageId={message.id} />
            <button type="button" className="icon-btn" data-testid="copy-answer" title="Copy answer"
              onClick={() => { void navigator.clipboard?.writeText(message.content).catch(() => undefined); setCopied(true); setTimeout(() => setCopied(false), 1200); }}>
              {copied ? '✓ Copied' : '⧉ Copy'}</button>
            <button type="button" className="icon-btn" data-testid="regenerate-button" disabled={busy} title="Regenerate (Alt+R)"
              onClick={() => void regenerate(message.id)}>↻ Regenerate</button>
            {t && (t.tokensPerSecond || t.completionTokens) ? (
              <span className="msg-stats" data-testid="message-stats">
                {t.completionTokens ? `${t.completionTokens} tokens` : ''}{t.tokensPerSecond ? ` · ${fmtRate(t.tokensPerSecond)}` : ''}
                {t.ttftMs ? ` · TTFT ${fmtMs(t.ttftMs)}` : ''}
              </span>
            ) : null}
          </div>
        )}
        {live && stopping && <div className="finish-note">Stopping…</div>}
      </div>
    </div>
  );
}

// MessageItem.tsx — the rows of the thread. A user row can be edited into a new branch; an
// assistant turn (assistant → tool → assistant… messages answering one user message) shows each
// step's reasoning panel, its tool-call cards and the markdown answer.
import { memo, useEffect, useRef, useState } from 'react';
import { splitMessage, type Message, type ToolCallRecord } from '../contract.ts';
import { fmtMs, fmtRate } from '../format.ts';
import { Markdown } from '../markdown/Markdown.tsx';
import { useApp } from '../store/index.ts';
import { BranchNav } from './BranchNav.tsx';
import { ReasoningPanel } from './ReasoningPanel.tsx';
import { ToolCallCard } from './ToolCallCard.tsx';

const COPIED_MS = 1200;

export const UserRow = memo(function UserRow({ message }: { message: Message }) {
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
              if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); void editAndBranch(message.id, text); }
              if (e.key === 'Escape') { e.stopPropagation(); setEditing(null); }
            }} />
          <div className="edit-actions">
            <button type="button" className="btn ghost" data-testid="edit-cancel" onClick={() => setEditing(null)}>Cancel</button>
            <button type="button" className="btn primary" data-testid="edit-save" disabled={!text.trim() || busy}
              onClick={() => void editAndBranch(message.id, text)}>Save &amp; branch</button>
          </div>
        </div>
      ) : (
        <UserContent content={message.content} />
      )}
      <div className="msg-actions">
        <BranchNav message={message} />
        {!editing && (
          <button type="button" className="icon-btn" data-testid="edit-button" disabled={busy} title="Edit and branch"
            onClick={() => setEditing(message.id)}>✎ Edit</button>
        )}
      </div>
    </div>
  );
});

/** The documents a user message carries as chips (open one to read its text), then the question. */
function UserContent({ content }: { content: string }) {
  const { docs, question } = splitMessage(content);
  if (!docs.length) return <LongText text={content} />;
  return (
    <>
      <div className="msg-docs">
        {docs.map((d, i) => (
          <details key={i} className="msg-doc" data-testid="message-document">
            <summary><span className="chip-name">{d.name}</span> <span className="chip-detail">{d.text.length.toLocaleString()} characters</span></summary>
            <pre>{d.text}</pre>
          </details>
        ))}
      </div>
      {question && <LongText text={question} />}
    </>
  );
}

/** Past this many characters a user message shows folded, with a toggle to read it all. */
const FOLD_CHARS = 1200;

function LongText({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  const long = text.length > FOLD_CHARS;
  return (
    <div className={`bubble ${long && !open ? 'folded' : ''}`}>
      <div data-testid="message-content">{text}</div>
      {long && (
        <button type="button" className="fold-toggle" data-testid="fold-toggle" onClick={() => setOpen(!open)}>
          {open ? 'Show less' : `Show all (${text.length.toLocaleString()} characters)`}
        </button>
      )}
    </div>
  );
}

/** Tool results stored as tool messages fill in their cards when the card has none yet. */
function withResults(calls: ToolCallRecord[], tools: Message[]): ToolCallRecord[] {
  return calls.map((c) => {
    const r = tools.find((t) => t.toolCallId === c.id);
    if (!r || c.result !== null) return c;
    return { ...c, result: r.content, status: c.status === 'error' ? 'error' : 'done' };
  });
}

export const AssistantTurn = memo(function AssistantTurn({ messages }: { messages: Message[] }) {
  const liveId = useApp((s) => s.generation?.messageId ?? null);
  const busy = useApp((s) => s.generation !== null);
  const regenerate = useApp((s) => s.regenerate);
  const [copied, setCopied] = useState(false);
  const first = messages.find((m) => m.role === 'assistant') ?? messages[0];
  const last = messages[messages.length - 1];
  const live = messages.some((m) => m.id === liveId);
  const tools = messages.filter((m) => m.role === 'tool');
  const callIds = new Set(messages.flatMap((m) => m.toolCalls.map((c) => c.id)));
  const answer = messages.filter((m) => m.role === 'assistant').map((m) => m.content).filter(Boolean).join('\n\n');
  const t = [...messages].reverse().find((m) => m.timings)?.timings ?? null;

  return (
    <div className={`msg msg-assistant ${live ? 'live' : ''}`} data-testid="message" data-role="assistant" data-id={first.id}
      data-streaming={live ? 'true' : 'false'} data-status={last.status}>
      <div className="avatar" aria-hidden>K</div>
      <div className="msg-body">
        {messages.map((m) => {
          if (m.role === 'tool') {
            if (m.toolCallId && callIds.has(m.toolCallId)) return null;
            return (
              <div key={m.id} className="tool-result-inline" data-testid="tool-message">
                <div className="tool-section-label">{m.toolName ?? 'tool'} result</div><pre>{m.content}</pre>
              </div>
            );
          }
          return <AssistantStep key={m.id} message={m} live={m.id === liveId} tools={tools} />;
        })}
        {!live && refused(first) && first.parentId && <ContextRefusal userMessageId={first.parentId} />}
        {live ? null : (
          <div className="msg-actions">
            <BranchNav message={first} />
            <button type="button" className="icon-btn" data-testid="copy-answer" title="Copy answer"
              onClick={() => { void navigator.clipboard?.writeText(answer).catch(() => undefined); setCopied(true); setTimeout(() => setCopied(false), COPIED_MS); }}>
              {copied ? '✓ Copied' : 'Copy'}</button>
            <button type="button" className="icon-btn" data-testid="regenerate-button" disabled={busy} title="Regenerate (Alt+R)"
              onClick={() => void regenerate(first.id)}>↻ Regenerate</button>
            {t && t.completionTokens > 0 ? (
              <span className="msg-stats" data-testid="message-stats">
                {t.completionTokens} tokens · {fmtRate(t.tokensPerSecond)} · TTFT {fmtMs(t.ttftMs)}
              </span>
            ) : null}
            {t?.notes?.length ? <span className="muted small" data-testid="message-notes">{t.notes.join(' · ')}</span> : null}
          </div>
        )}
      </div>
    </div>
  );
});

/** The core refused to generate: the conversation with this message does not fit the context. */
const refused = (m: Message): boolean => m.role === 'assistant' && m.status === 'error' && m.finishReason === 'length' && !m.content;

/**
 * The way out of a message too long for the context: edit it (a new branch) or remove it, so the
 * conversation goes on from before it.
 */
function ContextRefusal({ userMessageId }: { userMessageId: string }) {
  const isUser = useApp((s) => s.messages.some((m) => m.id === userMessageId && m.role === 'user'));
  const setEditing = useApp((s) => s.setEditing);
  const deleteMessage = useApp((s) => s.deleteMessage);
  const busy = useApp((s) => s.generation !== null);
  if (!isUser) return null;
  return (
    <div className="refusal" data-testid="context-refusal">
      This message is too long for the model's context window. Shorten it, or remove it and carry on from before it.
      <div className="refusal-actions">
        <button type="button" className="btn" data-testid="refusal-edit" disabled={busy} onClick={() => setEditing(userMessageId)}>✎ Edit the message</button>
        <button type="button" className="btn" data-testid="refusal-remove" disabled={busy} onClick={() => void deleteMessage(userMessageId)}>Remove it from the conversation</button>
      </div>
    </div>
  );
}

function AssistantStep({ message, live, tools }: { message: Message; live: boolean; tools: Message[] }) {
  const stopping = useApp((s) => live && (s.generation?.stopping ?? false));
  const calls = withResults(message.toolCalls, tools);
  const answerStarted = message.content.length > 0 || calls.length > 0 || message.reasoningMs !== null;
  const waiting = live && !message.reasoning && !answerStarted;
  return (
    <div className="step" data-testid="assistant-step" data-id={message.id} data-status={message.status}>
      {waiting && <div className="waiting" data-testid="waiting"><span className="dots"><i /><i /><i /></span> Reading the prompt…</div>}
      {message.reasoning && (
        <ReasoningPanel messageId={message.id} text={message.reasoning} live={live} answerStarted={answerStarted}
          storedMs={message.reasoningMs} storedTokens={message.reasoningTokens} />
      )}
      {calls.map((c, i) => <ToolCallCard key={`${i}:${c.id}`} call={c} />)}
      {message.content && (
        <div className={`answer ${live ? 'live' : ''}`} data-testid="message-content">
          <Markdown text={message.content} streaming={live} />
          {live && <span className="caret" />}
        </div>
      )}
      {message.error && <div className="finish-note error" data-testid="message-error">{message.error}</div>}
      {message.status === 'stopped' && <div className="finish-note" data-testid="finish-stopped">Stopped</div>}
      {(message.status === 'interrupted' || (message.status === 'error' && !message.error)) && (
        <div className="finish-note error" data-testid="finish-interrupted">Interrupted — the engine stopped</div>
      )}
      {message.finishReason === 'length' && message.status !== 'error' && <div className="finish-note">Reached the token limit</div>}
      {live && stopping && <div className="finish-note">Stopping…</div>}
    </div>
  );
}

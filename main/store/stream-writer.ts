// stream-writer.ts — persists an assistant message while it is generated, so that killing the
// app mid-answer loses at most the token in flight. Each token's deltas are one small
// transaction appending rows to message_chunks (O(1) per token); every COMPACT_EVERY_CHUNKS
// chunks, and at the end, they are folded into the message row. A reader (or recovery after a
// crash) folds whatever chunks remain (chat-store.ts foldChunks).
import type Database from 'better-sqlite3';
import type { MessagePatch } from './chat-store.ts';
import type { ToolCallRecord } from '../../common/contract.ts';

/** Chunks appended before they are folded into the message row. */
const COMPACT_EVERY_CHUNKS = 64;

export class StreamWriter {
  content = '';
  reasoning = '';
  toolCalls: ToolCallRecord[] = [];
  private seq = 0;
  private pendingChunks = 0;
  private readonly insert: Database.Statement;
  private closed = false;

  constructor(private readonly db: Database.Database, readonly messageId: string) {
    this.insert = db.prepare('INSERT INTO message_chunks (message_id, seq, kind, text) VALUES (?, ?, ?, ?)');
    const row = db.prepare('SELECT content, reasoning, tool_calls FROM messages WHERE id = ?').get(messageId) as
      { content: string; reasoning: string; tool_calls: string } | undefined;
    if (!row) throw new Error(`message ${messageId} not found`);
    this.content = row.content;
    this.reasoning = row.reasoning;
    this.toolCalls = JSON.parse(row.tool_calls) as ToolCallRecord[];
    db.prepare(`UPDATE messages SET status = 'streaming' WHERE id = ?`).run(messageId);
  }

  /** Runs fn (which appends deltas) as one transaction: one token's worth of output. */
  batch(fn: () => void): void {
    this.db.transaction(fn)();
    if (this.pendingChunks >= COMPACT_EVERY_CHUNKS) this.compact();
  }

  appendReasoning(delta: string): void { if (delta) { this.reasoning += delta; this.chunk('r', delta); } }
  appendContent(delta: string): void { if (delta) { this.content += delta; this.chunk('c', delta); } }
  appendToolArguments(index: number, delta: string): void {
    const call = this.toolCalls[index];
    if (!call || !delta) return;
    call.arguments += delta;
    this.chunk(`t${index}`, delta);
  }

  /** Adds or replaces a tool call record (status changes are rare: written straight to the row). */
  setToolCall(index: number, call: ToolCallRecord): void {
    this.toolCalls[index] = call;
    this.compact();
  }

  private chunk(kind: string, text: string): void {
    if (this.closed) throw new Error('stream already finished');
    this.insert.run(this.messageId, this.seq++, kind, text);
    this.pendingChunks++;
  }

  /** Folds the pending chunks into the message row (the in-memory text is the truth). */
  compact(): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE messages SET content = ?, reasoning = ?, tool_calls = ? WHERE id = ?')
        .run(this.content, this.reasoning, JSON.stringify(this.toolCalls), this.messageId);
      this.db.prepare('DELETE FROM message_chunks WHERE message_id = ?').run(this.messageId);
    })();
    this.pendingChunks = 0;
  }

  /** Final write: text, tool calls and the patch (status, finish reason, timings) together. */
  finish(patch: MessagePatch): void {
    if (this.closed) return;
    this.closed = true;
    const apply = this.db.prepare(`UPDATE messages SET content = ?, reasoning = ?, tool_calls = ?, status = ?,
      finish_reason = ?, error = ?, timings = ?, reasoning_ms = COALESCE(?, reasoning_ms), reasoning_tokens = COALESCE(?, reasoning_tokens) WHERE id = ?`);
    this.db.transaction(() => {
      apply.run(this.content, this.reasoning, JSON.stringify(patch.toolCalls ?? this.toolCalls), patch.status ?? 'complete',
        patch.finishReason ?? null, patch.error ?? null, patch.timings ? JSON.stringify(patch.timings) : null,
        patch.reasoningMs ?? null, patch.reasoningTokens ?? null, this.messageId);
      this.db.prepare('DELETE FROM message_chunks WHERE message_id = ?').run(this.messageId);
    })();
  }
}

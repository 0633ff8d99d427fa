// chat-store.ts — conversations and their message trees in SQLite. Messages link to their parent,
// so editing or regenerating makes a sibling (a branch); the conversation's head_id is the leaf
// shown. Streaming assistant messages are written through a StreamWriter (stream-writer.ts).
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type {
  Conversation, ConversationSummary, Message, MessageStatus, Sampling, SearchHit, Timings, ToolCallRecord,
} from '../../common/contract.ts';
import type { FinishReason } from '../../common/chat-types.ts';
import { StreamWriter } from './stream-writer.ts';

/** Characters of the last message shown in the conversation list. */
const PREVIEW_CHARS = 120;
/** Characters either side of a search match in its snippet. */
const SNIPPET_RADIUS = 60;
/** Most search hits returned. */
const MAX_SEARCH_HITS = 50;

interface MessageRow {
  id: string; conversation_id: string; parent_id: string | null; role: Message['role'];
  content: string; reasoning: string; reasoning_ms: number | null; reasoning_tokens: number | null;
  tool_calls: string; tool_call_id: string | null; tool_name: string | null; status: MessageStatus;
  finish_reason: FinishReason | null; error: string | null; timings: string | null; model: string | null;
  sampling: string | null; created_at: number;
}
interface ConversationRow {
  id: string; title: string; created_at: number; updated_at: number; head_id: string | null;
  tools: string; system_prompt: string | null; provider: string | null;
}

export interface NewMessage {
  conversationId: string;
  parentId: string | null;
  role: Message['role'];
  content?: string;
  reasoning?: string;
  toolCalls?: ToolCallRecord[];
  toolCallId?: string | null;
  toolName?: string | null;
  status?: MessageStatus;
  model?: string | null;
  sampling?: Sampling | null;
  finishReason?: FinishReason | null;
  timings?: Timings | null;
  createdAt?: number;
  id?: string;
}

export type MessagePatch = Partial<{
  content: string; reasoning: string; reasoningMs: number | null; reasoningTokens: number | null;
  toolCalls: ToolCallRecord[]; status: MessageStatus; finishReason: FinishReason | null; error: string | null;
  timings: Timings | null; model: string | null;
}>;

export class NotFoundError extends Error {
  constructor(what: string) { super(`${what} not found`); this.name = 'NotFoundError'; }
}

function json<T>(text: string | null, fallback: T): T {
  if (text == null) return fallback;
  try { return JSON.parse(text) as T; } catch { return fallback; }
}

export class ChatStore {
  /** Monotonic clock for created_at so siblings created in one millisecond keep their order. */
  private lastTime = 0;

  constructor(readonly db: Database.Database) {}

  now(): number {
    const t = Date.now();
    this.lastTime = t > this.lastTime ? t : this.lastTime + 1;
    return this.lastTime;
  }

  /** Runs fn in one transaction: all of its writes land, or none do. */
  transaction<T>(fn: () => T): T { return this.db.transaction(fn)(); }

  /** Opens the writer that streams a generated message into the store (stream-writer.ts). */
  openStream(messageId: string): StreamWriter { return new StreamWriter(this.db, messageId); }

  // Conversations ---------------------------------------------------------------------------

  createConversation(opts: { title?: string; tools?: string[]; systemPrompt?: string | null; id?: string; createdAt?: number }): string {
    const id = opts.id ?? randomUUID();
    const t = opts.createdAt ?? this.now();
    this.db.prepare(`INSERT INTO conversations (id, title, created_at, updated_at, head_id, tools, system_prompt)
      VALUES (?, ?, ?, ?, NULL, ?, ?)`).run(id, opts.title ?? 'New chat', t, t, JSON.stringify(opts.tools ?? []), opts.systemPrompt ?? null);
    return id;
  }

  private convRow(id: string): ConversationRow {
    const row = this.db.prepare('SELECT * FROM conversations WHERE id = ?').get(id) as ConversationRow | undefined;
    if (!row) throw new NotFoundError(`conversation ${id}`);
    return row;
  }

  hasConversation(id: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM conversations WHERE id = ?').get(id);
  }

  private summarize(row: ConversationRow): ConversationSummary {
    const count = (this.db.prepare('SELECT COUNT(*) AS n FROM messages WHERE conversation_id = ?').get(row.id) as { n: number }).n;
    let preview = '';
    if (row.head_id) {
      const head = this.db.prepare('SELECT content, reasoning FROM messages WHERE id = ?').get(row.head_id) as { content: string; reasoning: string } | undefined;
      preview = (head?.content || head?.reasoning || '').replace(/\s+/g, ' ').trim().slice(0, PREVIEW_CHARS);
    }
    return { id: row.id, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at, messageCount: count, preview, generating: false };
  }

  summary(id: string): ConversationSummary {
    return this.summarize(this.convRow(id));
  }

  listConversations(): ConversationSummary[] {
    const rows = this.db.prepare('SELECT * FROM conversations ORDER BY updated_at DESC, rowid DESC').all() as ConversationRow[];
    return rows.map((r) => this.summarize(r));
  }

  getConversation(id: string): Conversation {
    const row = this.convRow(id);
    return {
      ...this.summarize(row),
      headId: row.head_id,
      tools: json<string[]>(row.tools, []),
      systemPrompt: row.system_prompt,
      provider: row.provider ?? null,
      messages: row.head_id ? this.pathTo(row.head_id) : [],
    };
  }

  renameConversation(id: string, title: string): void {
    const r = this.db.prepare('UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?').run(title, this.now(), id);
    if (r.changes === 0) throw new NotFoundError(`conversation ${id}`);
  }

  deleteConversation(id: string): boolean {
    return this.db.prepare('DELETE FROM conversations WHERE id = ?').run(id).changes > 0;
  }

  setTools(id: string, tools: string[]): void {
    const r = this.db.prepare('UPDATE conversations SET tools = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(tools), this.now(), id);
    if (r.changes === 0) throw new NotFoundError(`conversation ${id}`);
  }

  /** The conversation's engine choice (null: the default). */
  setProvider(id: string, provider: string | null): void {
    const r = this.db.prepare('UPDATE conversations SET provider = ?, updated_at = ? WHERE id = ?').run(provider, this.now(), id);
    if (r.changes === 0) throw new NotFoundError(`conversation ${id}`);
  }

  setHead(conversationId: string, messageId: string | null): void {
    this.db.prepare('UPDATE conversations SET head_id = ?, updated_at = ? WHERE id = ?').run(messageId, this.now(), conversationId);
  }

  touch(conversationId: string): void {
    this.db.prepare('UPDATE conversations SET updated_at = ? WHERE id = ?').run(this.now(), conversationId);
  }

  // Messages --------------------------------------------------------------------------------

  private toMessage(row: MessageRow): Message {
    const siblings = this.db.prepare(
      `SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY created_at, rowid`,
    ).all(row.conversation_id, row.parent_id) as { id: string }[];
    return {
      id: row.id, conversationId: row.conversation_id, parentId: row.parent_id, role: row.role,
      content: row.content, reasoning: row.reasoning, reasoningMs: row.reasoning_ms, reasoningTokens: row.reasoning_tokens,
      toolCalls: json<ToolCallRecord[]>(row.tool_calls, []), toolCallId: row.tool_call_id, toolName: row.tool_name,
      status: row.status, finishReason: row.finish_reason, error: row.error, timings: json<Timings | null>(row.timings, null),
      model: row.model, sampling: json<Sampling | null>(row.sampling, null), createdAt: row.created_at,
      siblingIds: siblings.map((s) => s.id),
    };
  }

  private row(id: string): MessageRow {
    const row = this.db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    if (!row) throw new NotFoundError(`message ${id}`);
    return foldChunks(this.db, row);
  }

  getMessage(id: string): Message {
    return this.toMessage(this.row(id));
  }

  hasMessage(id: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM messages WHERE id = ?').get(id);
  }

  /** Adds a message and makes it the conversation's head. */
  addMessage(m: NewMessage): Message {
    const id = m.id ?? randomUUID();
    const t = m.createdAt ?? this.now();
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning, tool_calls,
          tool_call_id, tool_name, status, finish_reason, timings, model, sampling, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        id, m.conversationId, m.parentId, m.role, m.content ?? '', m.reasoning ?? '', JSON.stringify(m.toolCalls ?? []),
        m.toolCallId ?? null, m.toolName ?? null, m.status ?? 'complete', m.finishReason ?? null,
        m.timings ? JSON.stringify(m.timings) : null, m.model ?? null, m.sampling ? JSON.stringify(m.sampling) : null, t,
      );
      this.db.prepare('UPDATE conversations SET head_id = ?, updated_at = ? WHERE id = ?').run(id, t, m.conversationId);
    })();
    return this.getMessage(id);
  }

  updateMessage(id: string, p: MessagePatch): void {
    const sets: string[] = [];
    const vals: unknown[] = [];
    const put = (col: string, v: unknown) => { sets.push(`${col} = ?`); vals.push(v); };
    if (p.content !== undefined) put('content', p.content);
    if (p.reasoning !== undefined) put('reasoning', p.reasoning);
    if (p.reasoningMs !== undefined) put('reasoning_ms', p.reasoningMs);
    if (p.reasoningTokens !== undefined) put('reasoning_tokens', p.reasoningTokens);
    if (p.toolCalls !== undefined) put('tool_calls', JSON.stringify(p.toolCalls));
    if (p.status !== undefined) put('status', p.status);
    if (p.finishReason !== undefined) put('finish_reason', p.finishReason);
    if (p.error !== undefined) put('error', p.error);
    if (p.timings !== undefined) put('timings', p.timings ? JSON.stringify(p.timings) : null);
    if (p.model !== undefined) put('model', p.model);
    if (!sets.length) return;
    vals.push(id);
    this.db.prepare(`UPDATE messages SET ${sets.join(', ')} WHERE id = ?`).run(...vals);
  }

  /**
   * Deletes a message and its whole subtree (the schema cascades through parent_id); the
   * conversation's head becomes the message's parent. Returns the conversation id.
   */
  deleteMessage(id: string): string {
    const row = this.row(id);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM messages WHERE id = ?').run(id);
      this.setHead(row.conversation_id, row.parent_id);
    })();
    return row.conversation_id;
  }

  /** Messages from the root down to messageId. */
  /** Every message of a conversation (the whole tree, not one branch), oldest first. */
  allMessages(conversationId: string): Message[] {
    const rows = this.db.prepare('SELECT id FROM messages WHERE conversation_id = ? ORDER BY created_at, rowid').all(conversationId) as { id: string }[];
    return rows.map((r) => this.getMessage(r.id));
  }

  pathTo(messageId: string): Message[] {
    const rows = this.db.prepare(`
      WITH RECURSIVE up(id, parent_id, depth) AS (
        SELECT id, parent_id, 0 FROM messages WHERE id = ?
        UNION ALL SELECT m.id, m.parent_id, up.depth + 1 FROM messages m JOIN up ON m.id = up.parent_id
      ) SELECT messages.* FROM up JOIN messages ON messages.id = up.id ORDER BY up.depth DESC`).all(messageId) as MessageRow[];
    return rows.map((r) => this.toMessage(foldChunks(this.db, r)));
  }

  /** The newest leaf under messageId (following the newest child at each step). */
  newestLeaf(messageId: string): string {
    let id = messageId;
    for (;;) {
      const child = this.db.prepare('SELECT id FROM messages WHERE parent_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(id) as { id: string } | undefined;
      if (!child) return id;
      id = child.id;
    }
  }

  search(query: string): SearchHit[] {
    const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const hits: SearchHit[] = [];
    const seen = new Set<string>();
    const titleRows = this.db.prepare(`SELECT * FROM conversations WHERE title LIKE ? ESCAPE '\\' ORDER BY updated_at DESC LIMIT ?`)
      .all(pattern, MAX_SEARCH_HITS) as ConversationRow[];
    for (const r of titleRows) {
      seen.add(r.id);
      hits.push({ conversation: this.summarize(r), messageId: null, snippet: r.title });
    }
    const msgRows = this.db.prepare(`SELECT m.id, m.conversation_id, m.content FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE m.content LIKE ? ESCAPE '\\' AND m.role IN ('user', 'assistant') ORDER BY c.updated_at DESC, m.created_at DESC LIMIT ?`)
      .all(pattern, MAX_SEARCH_HITS * 4) as { id: string; conversation_id: string; content: string }[];
    for (const r of msgRows) {
      if (hits.length >= MAX_SEARCH_HITS) break;
      if (seen.has(r.conversation_id)) continue;
      seen.add(r.conversation_id);
      const at = r.content.toLowerCase().indexOf(query.toLowerCase());
      const start = Math.max(0, at - SNIPPET_RADIUS);
      const snippet = (start > 0 ? '…' : '') + r.content.slice(start, at + query.length + SNIPPET_RADIUS).replace(/\s+/g, ' ')
        + (at + query.length + SNIPPET_RADIUS < r.content.length ? '…' : '');
      hits.push({ conversation: this.summary(r.conversation_id), messageId: r.id, snippet });
    }
    return hits;
  }

  /**
   * After a crash: messages left 'streaming' get their stream chunks folded in and become
   * 'interrupted'. Returns how many were recovered.
   */
  recoverInterrupted(): number {
    const rows = this.db.prepare(`SELECT * FROM messages WHERE status = 'streaming'`).all() as MessageRow[];
    for (const r of rows) {
      const folded = foldChunks(this.db, r);
      const calls = json<ToolCallRecord[]>(folded.tool_calls, []).map((c) =>
        c.status === 'done' || c.status === 'error' ? c : { ...c, status: 'error' as const, error: c.error ?? 'interrupted' });
      this.db.transaction(() => {
        this.db.prepare(`UPDATE messages SET content = ?, reasoning = ?, tool_calls = ?, status = 'interrupted',
          finish_reason = COALESCE(finish_reason, 'error'), error = COALESCE(error, 'the app stopped while this message was being written') WHERE id = ?`)
          .run(folded.content, folded.reasoning, JSON.stringify(calls), r.id);
        this.db.prepare('DELETE FROM message_chunks WHERE message_id = ?').run(r.id);
      })();
    }
    return rows.length;
  }
}

/** Applies a streaming message's pending chunks (see stream-writer.ts) to its row. */
export function foldChunks<R extends { id: string; content: string; reasoning: string; tool_calls: string }>(db: Database.Database, row: R): R {
  const chunks = db.prepare('SELECT kind, text FROM message_chunks WHERE message_id = ? ORDER BY seq').all(row.id) as { kind: string; text: string }[];
  if (!chunks.length) return row;
  let content = row.content;
  let reasoning = row.reasoning;
  let calls: ToolCallRecord[] | null = null;
  for (const c of chunks) {
    if (c.kind === 'c') content += c.text;
    else if (c.kind === 'r') reasoning += c.text;
    else if (c.kind.startsWith('t')) {
      calls ??= json<ToolCallRecord[]>(row.tool_calls, []);
      const call = calls[Number(c.kind.slice(1))];
      if (call) call.arguments += c.text;
    }
  }
  return { ...row, content, reasoning, tool_calls: calls ? JSON.stringify(calls) : row.tool_calls };
}

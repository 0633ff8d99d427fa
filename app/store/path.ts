// path.ts — the open conversation is shown as one path root → head (the core keeps the tree).
// Streaming adds messages to that path before the core's next full answer: a new message goes
// right after its parent, replacing whatever branch followed (an edit or a regeneration).
import type { Message } from '../contract.ts';

export function blankMessage(p: Pick<Message, 'id' | 'conversationId' | 'parentId' | 'role'> & Partial<Message>): Message {
  return {
    content: '', reasoning: '', reasoningMs: null, reasoningTokens: null, toolCalls: [], toolCallId: null, toolName: null,
    status: 'streaming', finishReason: null, error: null, timings: null, model: null, sampling: null,
    createdAt: Date.now(), siblingIds: [p.id], ...p,
  };
}

/** The path with `msg` placed after its parent; a no-op when it is already there. */
export function placeMessage(path: Message[], msg: Message): Message[] {
  if (path.some((m) => m.id === msg.id)) return path;
  const at = msg.parentId === null ? 0 : path.findIndex((m) => m.id === msg.parentId) + 1;
  if (msg.parentId !== null && at === 0) return [...path, msg];        // parent unknown: append
  const replaced = path[at];
  let siblingIds = msg.siblingIds;
  if (replaced && replaced.parentId === msg.parentId) {
    const base = replaced.siblingIds.length ? replaced.siblingIds : [replaced.id];
    siblingIds = base.includes(msg.id) ? base : [...base, msg.id];
  }
  return [...path.slice(0, at), { ...msg, siblingIds }];
}

export function patchMessage(path: Message[], id: string, fn: (m: Message) => Message): Message[] {
  const i = path.findIndex((m) => m.id === id);
  if (i < 0) return path;
  const next = path.slice();
  next[i] = fn(path[i]);
  return next;
}

export interface TurnRow { kind: 'user'; message: Message }
export interface AssistantTurn { kind: 'turn'; messages: Message[] }
export type Row = TurnRow | AssistantTurn;

/** Rows to show: each user message, then one row for the assistant/tool messages answering it. */
export function rowsOf(path: Message[]): Row[] {
  const rows: Row[] = [];
  for (const m of path) {
    if (m.role === 'system') continue;
    if (m.role === 'user') { rows.push({ kind: 'user', message: m }); continue; }
    const last = rows[rows.length - 1];
    if (last && last.kind === 'turn') last.messages.push(m);
    else rows.push({ kind: 'turn', messages: [m] });
  }
  return rows;
}

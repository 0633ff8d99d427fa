// transfer.ts — export a conversation as Markdown (the branch shown, for people) or JSON (the whole
// tree, for re-import), and import either back as a new conversation.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ContractError, MessageSchema, type Conversation, type Message } from '../../common/contract.ts';
import type { ChatStore } from '../store/index.ts';

export const EXPORT_FORMAT = 'karakoram-conversation';
export const EXPORT_VERSION = 1;

const ExportSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.number().int().max(EXPORT_VERSION),
  conversation: z.object({
    title: z.string(), createdAt: z.number(), tools: z.array(z.string()), systemPrompt: z.string().nullable(), headId: z.string().nullable(),
  }),
  messages: z.array(MessageSchema.omit({ siblingIds: true, conversationId: true })),
});

function safeName(title: string): string {
  return (title.replace(/[^\p{L}\p{N} _-]+/gu, '').trim().replace(/\s+/g, '-').slice(0, 60) || 'conversation');
}

export function exportMarkdown(conv: Conversation): string {
  const out: string[] = [`# ${conv.title}`, ''];
  for (const m of conv.messages) {
    if (m.role === 'tool') continue;   // shown inside the assistant's tool-call card
    out.push(m.role === 'user' ? '## User' : m.role === 'system' ? '## System' : '## Assistant', '');
    if (m.reasoning) {
      out.push('<details><summary>Reasoning</summary>', '', m.reasoning.trim(), '', '</details>', '');
    }
    for (const c of m.toolCalls) {
      out.push(`> **Tool call** \`${c.name}\` ${c.arguments}`);
      if (c.result !== null) out.push('>', `> → ${c.result}`);
      out.push('');
    }
    if (m.content) out.push(m.content.trim(), '');
  }
  return out.join('\n');
}

export function exportConversation(chats: ChatStore, conversationId: string, format: 'md' | 'json'): { filename: string; mimeType: string; data: string } {
  const conv = chats.getConversation(conversationId);
  if (format === 'md') return { filename: `${safeName(conv.title)}.md`, mimeType: 'text/markdown', data: exportMarkdown(conv) };
  const messages = chats.allMessages(conversationId).map(({ siblingIds: _s, conversationId: _c, ...m }) => m);
  const doc = {
    format: EXPORT_FORMAT, version: EXPORT_VERSION,
    conversation: { title: conv.title, createdAt: conv.createdAt, tools: conv.tools, systemPrompt: conv.systemPrompt, headId: conv.headId },
    messages,
  };
  return { filename: `${safeName(conv.title)}.json`, mimeType: 'application/json', data: JSON.stringify(doc, null, 2) };
}

/** Markdown as exportMarkdown writes it: "# title", then "## User" / "## Assistant" sections. */
function parseMarkdown(text: string): { title: string; turns: { role: 'user' | 'assistant' | 'system'; content: string; reasoning: string }[] } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let title = 'Imported chat';
  const turns: { role: 'user' | 'assistant' | 'system'; content: string; reasoning: string }[] = [];
  let cur: (typeof turns)[number] | null = null;
  let body: string[] = [];
  const close = () => {
    if (!cur) return;
    let t = body.join('\n');
    const r = /<details><summary>Reasoning<\/summary>\n([\s\S]*?)\n<\/details>/.exec(t);
    if (r) { cur.reasoning = r[1].trim(); t = t.replace(r[0], ''); }
    // Tool-call quotes are a view of tool messages; they do not import as text.
    cur.content = t.split('\n').filter((l) => !l.startsWith('>')).join('\n').trim();
    turns.push(cur);
  };
  for (const line of lines) {
    const h1 = /^# (.+)$/.exec(line);
    const h2 = /^## (User|Assistant|System)\s*$/i.exec(line);
    if (h1 && !cur && turns.length === 0) { title = h1[1].trim(); continue; }
    if (h2) { close(); cur = { role: h2[1].toLowerCase() as 'user' | 'assistant' | 'system', content: '', reasoning: '' }; body = []; continue; }
    if (cur) body.push(line);
  }
  close();
  return { title, turns };
}

export function importConversation(chats: ChatStore, data: string, format?: 'md' | 'json'): string {
  const fmt = format ?? (data.trimStart().startsWith('{') ? 'json' : 'md');
  if (fmt === 'md') {
    const { title, turns } = parseMarkdown(data);
    if (!turns.length) throw new ContractError('bad_request', 'no "## User" or "## Assistant" sections found in the Markdown');
    return chats.transaction(() => {
      const id = chats.createConversation({ title });
      let parent: string | null = null;
      for (const t of turns) parent = chats.addMessage({ conversationId: id, parentId: parent, role: t.role, content: t.content, reasoning: t.reasoning }).id;
      return id;
    });
  }
  let raw: unknown;
  try { raw = JSON.parse(data); } catch (e) { throw new ContractError('bad_request', `not valid JSON: ${(e as Error).message}`); }
  const parsed = ExportSchema.safeParse(raw);
  if (!parsed.success) throw new ContractError('bad_request', `not a Karakoram conversation export: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  const doc = parsed.data;
  const ids = new Map<string, string>();
  for (const m of doc.messages) ids.set(m.id, randomUUID());
  const byId = new Map(doc.messages.map((m) => [m.id, m]));
  // Parents before children, whatever order the file lists them in.
  const ordered: typeof doc.messages = [];
  const placed = new Set<string>();
  const place = (m: (typeof doc.messages)[number], depth: number) => {
    if (placed.has(m.id)) return;
    if (depth > doc.messages.length) throw new ContractError('bad_request', 'the messages\' parent links form a cycle');
    if (m.parentId) {
      const p = byId.get(m.parentId);
      if (!p) throw new ContractError('bad_request', `message ${m.id} names a parent that is not in the file`);
      place(p, depth + 1);
    }
    placed.add(m.id);
    ordered.push(m);
  };
  for (const m of doc.messages) place(m, 0);
  return chats.transaction(() => {
    const id = chats.createConversation({ title: doc.conversation.title, tools: doc.conversation.tools, systemPrompt: doc.conversation.systemPrompt, createdAt: doc.conversation.createdAt });
    for (const m of ordered) {
      const added: Message = chats.addMessage({
        id: ids.get(m.id), conversationId: id, parentId: m.parentId ? ids.get(m.parentId)! : null, role: m.role,
        content: m.content, reasoning: m.reasoning, toolCalls: m.toolCalls, toolCallId: m.toolCallId, toolName: m.toolName,
        status: m.status === 'streaming' ? 'interrupted' : m.status, model: m.model, sampling: m.sampling,
        finishReason: m.finishReason, timings: m.timings, createdAt: m.createdAt,
      });
      if (m.reasoningMs !== null || m.reasoningTokens !== null || m.error !== null) {
        chats.updateMessage(added.id, { reasoningMs: m.reasoningMs, reasoningTokens: m.reasoningTokens, error: m.error });
      }
    }
    const head = doc.conversation.headId && ids.get(doc.conversation.headId);
    if (head) chats.setHead(id, head);
    return id;
  });
}

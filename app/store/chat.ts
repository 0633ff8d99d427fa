// chat.ts — sending, stopping, regenerating, branching, and folding the core's streaming events
// into the open conversation's messages and the performance strip.
import type { CoreEvent, GenerationHandle, MessageView, ToolCallView } from '../contract.ts';
import { ROOT, visiblePath } from './tree.ts';
import type { AppState, ChatSlice, GenerationState, PerfState, SliceCreator } from './types.ts';

const EMPTY_PERF: PerfState = { prefillFraction: null, ttftMs: null, tokensPerSecond: null, contextUsed: null, contextMax: null };

function now(): number { return typeof performance !== 'undefined' ? performance.now() : Date.now(); }

function blankAssistant(conversationId: string, id: string, parentId: string | null): MessageView {
  return { id, conversationId, parentId, role: 'assistant', content: '', reasoning: '', toolCalls: [], createdAt: Date.now(), finishReason: null };
}

function freshGeneration(conversationId: string, messageId: string): GenerationState {
  return {
    conversationId, messageId, startedAt: now(), firstTokenAt: null, reasoningStartedAt: null, reasoningEndedAt: null,
    reasoningTokens: 0, contentTokens: 0, prefillDone: 0, prefillTotal: 0, stopping: false,
  };
}

function upsertTool(calls: ToolCallView[], index: number, patch: Partial<ToolCallView>): ToolCallView[] {
  const i = calls.findIndex((c) => c.index === index);
  if (i < 0) return [...calls, { id: '', index, name: '', arguments: '', status: 'pending', ...patch }];
  const next = calls.slice();
  next[i] = { ...next[i], ...patch };
  return next;
}

/** Pure reducer: the state after one event. Exported for tests. */
export function reduceEvent(s: AppState, e: CoreEvent): Partial<AppState> {
  switch (e.type) {
    case 'engine.status': {
      const patch: Partial<AppState> = { engine: e.status };
      if (e.status.state === 'crashed' && s.generation) {
        patch.generation = null;
        if (s.messages[s.generation.messageId]) {
          const m = s.messages[s.generation.messageId];
          patch.messages = { ...s.messages, [m.id]: { ...m, finishReason: 'error' } };
        }
      }
      if (e.status.state === 'ready') patch.loadProgress = null;
      return patch;
    }
    case 'model.progress':
      return { loadProgress: { stage: e.stage, fraction: e.fraction } };
    case 'conversations.changed':
      return {};
    default: break;
  }

  const active = e.conversationId === s.activeId;
  let gen = s.generation;
  let messages = s.messages;
  const t = now();

  if (e.type === 'generation.start') {
    gen = freshGeneration(e.conversationId, e.messageId);
    const patch: Partial<AppState> = { generation: gen, perf: { ...EMPTY_PERF, prefillFraction: 0 }, error: null };
    if (active) {
      messages = { ...messages };
      let sel = s.selected;
      if (e.userMessage) {
        messages[e.userMessage.id] = e.userMessage;
        sel = { ...sel, [e.userMessage.parentId ?? ROOT]: e.userMessage.id };
      }
      messages[e.messageId] = messages[e.messageId] ?? blankAssistant(e.conversationId, e.messageId, e.parentId);
      sel = { ...sel, [e.parentId ?? ROOT]: e.messageId };
      patch.messages = messages;
      patch.selected = sel;
    }
    return patch;
  }

  if (!gen || gen.messageId !== e.messageId) {
    // An event for a generation this window did not start (another tab): adopt it.
    gen = freshGeneration(e.conversationId, e.messageId);
  }
  const msg = active ? (messages[e.messageId] ?? blankAssistant(e.conversationId, e.messageId, null)) : null;
  const put = (m: MessageView): Record<string, MessageView> => ({ ...messages, [m.id]: m });

  switch (e.type) {
    case 'prefill.progress': {
      gen = { ...gen, prefillDone: e.done, prefillTotal: e.total };
      return { generation: gen, perf: { ...s.perf, prefillFraction: e.total > 0 ? e.done / e.total : null } };
    }
    case 'reasoning.delta': {
      gen = {
        ...gen,
        firstTokenAt: gen.firstTokenAt ?? t,
        reasoningStartedAt: gen.reasoningStartedAt ?? t,
        reasoningTokens: gen.reasoningTokens + 1,
      };
      const patch: Partial<AppState> = { generation: gen, perf: perfNow(s.perf, gen, t) };
      if (msg) patch.messages = put({ ...msg, reasoning: msg.reasoning + e.delta });
      return patch;
    }
    case 'content.delta': {
      gen = {
        ...gen,
        firstTokenAt: gen.firstTokenAt ?? t,
        reasoningEndedAt: gen.reasoningStartedAt !== null ? (gen.reasoningEndedAt ?? t) : gen.reasoningEndedAt,
        contentTokens: gen.contentTokens + 1,
      };
      const patch: Partial<AppState> = { generation: gen, perf: perfNow(s.perf, gen, t) };
      if (msg) patch.messages = put({ ...msg, content: msg.content + e.delta });
      return patch;
    }
    case 'toolcall.begin': {
      gen = { ...gen, firstTokenAt: gen.firstTokenAt ?? t, reasoningEndedAt: gen.reasoningStartedAt !== null ? (gen.reasoningEndedAt ?? t) : null };
      const patch: Partial<AppState> = { generation: gen };
      if (msg) patch.messages = put({ ...msg, toolCalls: upsertTool(msg.toolCalls, e.index, { id: e.id, name: e.name, status: 'pending' }) });
      return patch;
    }
    case 'toolcall.delta': {
      if (!msg) return {};
      const cur = msg.toolCalls.find((c) => c.index === e.index);
      return { messages: put({ ...msg, toolCalls: upsertTool(msg.toolCalls, e.index, { arguments: (cur?.arguments ?? '') + e.delta }) }) };
    }
    case 'toolcall.end': {
      if (!msg) return {};
      return {
        messages: put({
          ...msg,
          toolCalls: upsertTool(msg.toolCalls, e.index, {
            id: e.id, name: e.name, arguments: e.arguments, status: e.status, result: e.result, durationMs: e.durationMs,
          }),
        }),
      };
    }
    case 'generation.finish': {
      const perf: PerfState = {
        prefillFraction: s.perf.prefillFraction !== null ? 1 : null,
        ttftMs: e.timings.ttftMs ?? s.perf.ttftMs,
        tokensPerSecond: e.timings.tokensPerSecond ?? s.perf.tokensPerSecond,
        contextUsed: e.contextUsed ?? s.perf.contextUsed,
        contextMax: e.contextMax ?? s.perf.contextMax,
      };
      const reasoningMs = gen.reasoningStartedAt !== null ? (gen.reasoningEndedAt ?? t) - gen.reasoningStartedAt : undefined;
      const patch: Partial<AppState> = { generation: null, perf };
      if (msg) {
        const base = e.message ? { ...e.message } : msg;
        const timings = { reasoningMs, reasoningTokens: gen.reasoningTokens || undefined, ...base.timings, ...e.timings };
        patch.messages = put({ ...base, finishReason: e.reason, timings });
      }
      return patch;
    }
    case 'generation.error': {
      const patch: Partial<AppState> = { generation: null, error: e.message };
      if (msg) patch.messages = put({ ...msg, finishReason: 'error' });
      return patch;
    }
  }
}

function perfNow(prev: PerfState, gen: GenerationState, t: number): PerfState {
  const ttft = gen.firstTokenAt !== null ? gen.firstTokenAt - gen.startedAt : null;
  const tokens = gen.reasoningTokens + gen.contentTokens;
  const span = gen.firstTokenAt !== null ? (t - gen.firstTokenAt) / 1000 : 0;
  const tps = tokens > 1 && span > 0 ? (tokens - 1) / span : prev.tokensPerSecond;
  const ctx = gen.prefillTotal > 0 ? gen.prefillTotal + tokens : prev.contextUsed;
  return { ...prev, prefillFraction: prev.prefillFraction !== null ? 1 : null, ttftMs: ttft, tokensPerSecond: tps, contextUsed: ctx };
}

export const createChatSlice: SliceCreator<ChatSlice> = (set, get, client) => {
  async function startWith(p: Promise<GenerationHandle>): Promise<void> {
    try {
      const h = await p;
      // The start event normally arrives first; if not, make the live message exist now.
      const s = get();
      if (!s.generation || s.generation.messageId !== h.assistantMessageId) {
        set({ generation: freshGeneration(h.conversationId, h.assistantMessageId), perf: { ...EMPTY_PERF, prefillFraction: 0 } });
      }
    } catch (e) {
      set({ error: (e as Error).message });
    }
  }

  return {
    generation: null,
    perf: EMPTY_PERF,
    draft: '',
    error: null,

    setDraft(d) { set({ draft: d }); },

    async send(content) {
      const text = (content ?? get().draft).trim();
      if (!text || get().generation) return;
      let convId = get().activeId;
      if (!convId) convId = await get().newConversation();
      if (!convId) return;
      const { messages, selected } = get();
      const path = visibleLeaf(messages, selected);
      set({ draft: '' });
      await startWith(client.call('chat.send', { conversationId: convId, content: text, parentId: path }));
      void get().refreshList();
    },

    async stop() {
      const g = get().generation;
      if (!g) return;
      set({ generation: { ...g, stopping: true } });
      try { await client.call('chat.stop', { conversationId: g.conversationId }); }
      catch (e) { set({ error: (e as Error).message }); }
    },

    async regenerate(messageId) {
      const conv = get().activeId;
      if (!conv || get().generation) return;
      await startWith(client.call('chat.regenerate', { conversationId: conv, messageId }));
    },

    async editAndBranch(messageId, content) {
      const conv = get().activeId;
      const text = content.trim();
      if (!conv || !text || get().generation) return;
      set({ editingId: null });
      await startWith(client.call('chat.editAndBranch', { conversationId: conv, messageId, content: text }));
      void get().refreshList();
    },

    applyEvent(e) {
      const patch = reduceEvent(get(), e);
      if (Object.keys(patch).length) set(patch);
      if (e.type === 'generation.finish' || e.type === 'conversations.changed') void get().refreshList();
      if (e.type === 'engine.status' && e.status.state === 'ready') void get().refreshModel();
    },

    clearError() { set({ error: null }); },
  };
};

function visibleLeaf(messages: Record<string, MessageView>, selected: Record<string, string>): string | null {
  const p = visiblePath(messages, selected);
  return p.length ? p[p.length - 1].id : null;
}

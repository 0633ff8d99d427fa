// chat.ts — sending, stopping, regenerating, branching, and folding the core's streaming
// generation events into the visible path and the performance strip.
import { composeMessage, type GenerationEvent, type Message, type ToolCallRecord } from '../contract.ts';
import { blankMessage, patchMessage, placeMessage } from './path.ts';
import type { AppState, ChatSlice, GenerationState, PendingUser, PerfState, SliceCreator } from './types.ts';

export const EMPTY_PERF: PerfState = { promptDone: null, promptTotal: null, cachedTokens: null, ttftMs: null, tokensPerSecond: null, contextUsed: null, contextLength: null, notReported: [] };

const clock = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function freshGeneration(conversationId: string, messageId: string, pendingUser: PendingUser | null = null, startedAt = clock()): GenerationState {
  return {
    conversationId, messageId, startedAt, firstTokenAt: null, reasoningStartedAt: null, reasoningEndedAt: null,
    reasoningTokens: 0, stopping: false, promptProgressAt: null, pendingUser,
  };
}

function upsertCall(calls: ToolCallRecord[], index: number, patch: Partial<ToolCallRecord>): ToolCallRecord[] {
  if (index < calls.length) return calls.map((c, i) => (i === index ? { ...c, ...patch } : c));
  const next = calls.slice();
  while (next.length < index) next.push({ id: '', name: '', arguments: '', status: 'streaming', result: null, error: null, durationMs: null });
  next.push({ id: '', name: '', arguments: '', status: 'streaming', result: null, error: null, durationMs: null, ...patch });
  return next;
}

function replaceCall(calls: ToolCallRecord[], call: ToolCallRecord): ToolCallRecord[] {
  const i = calls.findIndex((c) => c.id === call.id);
  return i < 0 ? [...calls, call] : calls.map((c, j) => (j === i ? call : c));
}

/** Pure: the state after one generation event. Exported for the unit tests. */
export function reduceGeneration(s: AppState, e: GenerationEvent): Partial<AppState> {
  const t = clock();
  const active = e.conversationId === s.activeId;
  let gen = s.generation;

  if (e.type === 'tool_message') {
    if (!active) return {};
    return { messages: placeMessage(s.messages, e.message) };
  }

  if (e.type === 'started') {
    // A tool turn continues in a new message: the clock of the turn keeps running.
    const continuing = gen && gen.conversationId === e.conversationId;
    gen = continuing
      ? { ...gen!, messageId: e.messageId, reasoningStartedAt: null, reasoningEndedAt: null, reasoningTokens: 0, stopping: gen!.stopping }
      : freshGeneration(e.conversationId, e.messageId);
    const patch: Partial<AppState> = { generation: gen, error: null };
    if (!continuing) patch.perf = { ...EMPTY_PERF, contextLength: s.perf.contextLength };
    if (active) {
      let path = s.messages;
      const pu = gen.pendingUser;
      if (e.parentId !== null && !path.some((m) => m.id === e.parentId) && pu) {
        // The user message was stored before its id reached us: show it now.
        path = placeMessage(path, blankMessage({ id: e.parentId, conversationId: e.conversationId, parentId: pu.parentId, role: 'user', content: pu.text, status: 'complete' }));
      }
      path = placeMessage(path, blankMessage({ id: e.messageId, conversationId: e.conversationId, parentId: e.parentId, role: 'assistant', model: e.model }));
      patch.messages = path;
    }
    return patch;
  }

  if (!gen || gen.messageId !== e.messageId) {
    // Events of a generation this window did not start (another window): adopt it.
    gen = freshGeneration(e.conversationId, e.messageId);
  }
  const upd = (fn: (m: Message) => Message): Message[] | undefined => {
    if (!active) return undefined;
    const path = s.messages.some((m) => m.id === e.messageId)
      ? s.messages
      : placeMessage(s.messages, blankMessage({ id: e.messageId, conversationId: e.conversationId, parentId: s.messages[s.messages.length - 1]?.id ?? null, role: 'assistant' }));
    return patchMessage(path, e.messageId, fn);
  };
  const withMessages = (p: Partial<AppState>, m: Message[] | undefined): Partial<AppState> => (m ? { ...p, messages: m } : p);
  const firstToken = (g: GenerationState): GenerationState => (g.firstTokenAt === null ? { ...g, firstTokenAt: t } : g);
  const ttft = (g: GenerationState, p: PerfState): PerfState => (p.ttftMs === null && g.firstTokenAt !== null ? { ...p, ttftMs: g.firstTokenAt - g.startedAt } : p);

  switch (e.type) {
    case 'prompt_progress':
      return { generation: { ...gen, promptProgressAt: t }, perf: { ...s.perf, promptDone: e.done, promptTotal: e.total } };
    case 'reasoning': {
      gen = firstToken({ ...gen, reasoningStartedAt: gen.reasoningStartedAt ?? t, reasoningTokens: gen.reasoningTokens + 1 });
      return withMessages({ generation: gen, perf: ttft(gen, s.perf) }, upd((m) => ({ ...m, reasoning: m.reasoning + e.delta })));
    }
    case 'reasoning_end': {
      gen = { ...gen, reasoningEndedAt: gen.reasoningEndedAt ?? t };
      return withMessages({ generation: gen }, upd((m) => ({ ...m, reasoningMs: e.reasoningMs, reasoningTokens: e.reasoningTokens })));
    }
    case 'content': {
      gen = firstToken({ ...gen, reasoningEndedAt: gen.reasoningStartedAt !== null ? (gen.reasoningEndedAt ?? t) : null });
      return withMessages({ generation: gen, perf: ttft(gen, s.perf) }, upd((m) => ({ ...m, content: m.content + e.delta })));
    }
    case 'tool_call_begin': {
      gen = firstToken({ ...gen, reasoningEndedAt: gen.reasoningStartedAt !== null ? (gen.reasoningEndedAt ?? t) : null });
      return withMessages({ generation: gen, perf: ttft(gen, s.perf) },
        upd((m) => ({ ...m, toolCalls: upsertCall(m.toolCalls, e.index, { id: e.id, name: e.name, status: 'streaming' }) })));
    }
    case 'tool_call_delta':
      return withMessages({}, upd((m) => ({ ...m, toolCalls: upsertCall(m.toolCalls, e.index, { arguments: (m.toolCalls[e.index]?.arguments ?? '') + e.delta }) })));
    case 'tool_call_end':
      return withMessages({}, upd((m) => ({ ...m, toolCalls: upsertCall(m.toolCalls, e.index, e.call) })));
    case 'tool_status':
      return withMessages({}, upd((m) => ({ ...m, toolCalls: replaceCall(m.toolCalls, e.call) })));
    case 'error':
      return withMessages({}, upd((m) => ({ ...m, error: e.message })));
    case 'stats':
      return {
        generation: gen,
        perf: { ...s.perf, tokensPerSecond: e.tokensPerSecond, contextUsed: e.contextUsed, contextLength: e.contextLength },
      };
    case 'finish': {
      const tm = e.timings;
      const perf: PerfState = tm
        ? { ...s.perf, ttftMs: tm.ttftMs, tokensPerSecond: tm.tokensPerSecond, contextUsed: tm.contextUsed, contextLength: tm.contextLength, promptDone: tm.promptTokens, promptTotal: tm.promptTokens, cachedTokens: tm.cachedTokens ?? 0, notReported: tm.notReported ?? [] }
        : s.perf;
      // The stored message replaces the streamed one (ids, siblings, timings as the core has them).
      const messages = upd(() => e.message);
      // A tool turn goes on in the next message ('started' follows); otherwise the answer is done.
      const next: GenerationState | null = e.continuedBy ? { ...gen, messageId: e.continuedBy } : null;
      // A failed answer says why on the message itself (no second, global banner).
      return withMessages({ generation: next, perf }, messages);
    }
  }
}

export const createChatSlice: SliceCreator<ChatSlice> = (set, get, api) => {
  /** After the core accepted a request: make sure the messages it created are on screen. */
  function accepted(conversationId: string, userId: string | null, assistantId: string, pu: PendingUser | null, assistantParent: string | null) {
    const s = get();
    let path = s.messages;
    if (s.activeId === conversationId) {
      if (userId && pu) path = placeMessage(path, blankMessage({ id: userId, conversationId, parentId: pu.parentId, role: 'user', content: pu.text, status: 'complete' }));
      const parentId = userId ?? assistantParent;
      if (!path.some((m) => m.id === assistantId)) path = placeMessage(path, blankMessage({ id: assistantId, conversationId, parentId, role: 'assistant' }));
    }
    const g = s.generation;
    const gen = g && g.conversationId === conversationId ? { ...g, pendingUser: null } : g;
    set({ messages: path, generation: gen });
  }

  function begin(conversationId: string, pu: PendingUser | null) {
    // A placeholder generation: the 'started' event fills in the message id.
    set({ generation: freshGeneration(conversationId, '', pu), perf: { ...EMPTY_PERF, contextLength: get().perf.contextLength }, error: null });
  }

  function failed(e: unknown) {
    set({ generation: null, error: msg(e) });
  }

  return {
    generation: null,
    perf: EMPTY_PERF,
    draft: '',
    error: null,
    thinking: true,

    setDraft(d) { set({ draft: d }); },
    setThinking(on) { set({ thinking: on }); },

    async send(content) {
      const question = (content ?? get().draft).trim();
      const docs = content === undefined ? get().attachments : [];
      if ((!question && !docs.length) || get().generation) return;
      const text = composeMessage(question, docs.map((a) => ({ name: a.name, text: a.text })));
      // Sent right after New chat, before the core has created it: the question goes there.
      const pending = get().pendingNewConversation();
      let convId = pending ? await pending : get().activeId;
      if (!convId) convId = await get().newConversation();
      if (!convId) return;
      const path = get().messages;
      const pu: PendingUser = { text, parentId: path.length ? path[path.length - 1].id : null };
      set({ draft: '', attachments: [], previewIndex: null, meter: null });
      begin(convId, pu);
      try {
        // The mode goes with the request only where the model has the switch.
        const options = get().engine.model?.thinkingSwitch ? { sampling: { thinking: get().thinking } } : undefined;
        const r = await api.sendMessage({ conversationId: convId, content: text, ...(options ? { options } : {}) });
        accepted(convId, r.userMessageId, r.assistantMessageId, pu, r.userMessageId);
      } catch (e) { failed(e); set({ draft: question, attachments: docs }); }
    },

    async stop() {
      const g = get().generation;
      if (!g) return;
      set({ generation: { ...g, stopping: true } });
      try { await api.stopGeneration({ conversationId: g.conversationId }); }
      catch (e) { set({ error: msg(e) }); }
    },

    async regenerate(messageId) {
      const conv = get().activeId;
      if (!conv || get().generation) return;
      const parent = get().messages.find((m) => m.id === messageId)?.parentId ?? null;
      begin(conv, null);
      try {
        const r = await api.regenerate({ messageId });
        accepted(conv, null, r.assistantMessageId, null, parent);
      } catch (e) { failed(e); }
    },

    async editAndBranch(messageId, content) {
      const conv = get().activeId;
      const text = content.trim();
      const orig = get().messages.find((m) => m.id === messageId);
      if (!conv || !text || !orig || get().generation) return;
      set({ editingId: null });
      const pu: PendingUser = { text, parentId: orig.parentId };
      begin(conv, pu);
      try {
        const r = await api.editAndBranch({ messageId, newContent: text });
        accepted(conv, r.userMessageId, r.assistantMessageId, pu, r.userMessageId);
      } catch (e) { failed(e); }
    },

    applyGenerationEvent(e) {
      const patch = reduceGeneration(get(), e);
      if (Object.keys(patch).length) set(patch);
    },

    clearError() { set({ error: null }); },
  };
};

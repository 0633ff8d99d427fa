// conversations.ts — the conversation list (with search) and the open conversation.
import type { Conversation } from '../contract.ts';
import { DEMO_SOURCE, type ConversationsSlice, type SliceCreator } from './types.ts';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const createConversationsSlice: SliceCreator<ConversationsSlice> = (set, get, api) => {
  let creating: Promise<string | null> | null = null;
  function show(c: Conversation) {
    // A generation streaming into this conversation keeps its live messages.
    const gen = get().generation;
    let messages = c.messages;
    if (gen && gen.conversationId === c.id && !messages.some((m) => m.id === gen.messageId)) {
      const live = get().messages;
      const cut = live.findIndex((m) => !messages.some((x) => x.id === m.id));
      if (cut >= 0) messages = [...messages, ...live.slice(cut)];
    }
    set({ conversation: c, messages, activeId: c.id, loadingConversation: false });
  }

  return {
    list: [],
    query: '',
    hits: null,
    activeId: null,
    conversation: null,
    messages: [],
    tools: [],
    loadingConversation: false,

    async refreshList() {
      const q = get().query.trim();
      try {
        if (q) {
          const hits = await api.searchConversations({ query: q });
          if (get().query.trim() === q) set({ hits });
        } else {
          const list = await api.listConversations({});
          set({ list, hits: get().query.trim() ? get().hits : null });
        }
        if (!get().tools.length) set({ tools: await api.listTools({}) });
      } catch (e) { get().showToast(`Could not list conversations: ${msg(e)}`); }
    },

    async setQuery(q) {
      set({ query: q, hits: q.trim() ? get().hits : null });
      await get().refreshList();
    },

    async openConversation(id) {
      // Leaving a conversation: the core saves its prompt's KV, so coming back does not re-read it.
      const left = get().activeId;
      if (left && left !== id) api.leaveConversation({ conversationId: left }).catch(() => { /* best effort */ });
      // At narrow widths the list covers the chat: opening a conversation puts it away.
      if (id === null) { set({ activeId: null, conversation: null, messages: [], editingId: null, sidebarOpen: false }); return; }
      set({ activeId: id, loadingConversation: true, editingId: null, sidebarOpen: false });
      try {
        const c = await api.getConversation({ conversationId: id });
        if (get().activeId === id) show(c);
      } catch (e) {
        set({ loadingConversation: false });
        get().showToast(`Could not open the conversation: ${msg(e)}`);
      }
    },

    async reloadConversation() {
      const id = get().activeId;
      if (!id) return;
      try {
        const c = await api.getConversation({ conversationId: id });
        // A generation that began meanwhile owns the view; its finish event brings the stored message.
        if (get().activeId === id && !get().generation) show(c);
      } catch { /* the next event or reload will try again */ }
    },

    // The draft is cleared at the click, not when the core answers: what is typed meanwhile belongs
    // to the new conversation and is kept, and a send() in that gap waits for it (pendingNewConversation)
    // instead of going to the conversation being left. A second click in the gap gets the same one.
    newConversation() {
      if (creating) return creating;
      const left = get().activeId;
      if (left) api.leaveConversation({ conversationId: left }).catch(() => { /* best effort */ });
      set({ draft: '' });
      const p = (async () => {
        try {
          const c = await api.createConversation({});
          const { messages: _m, headId: _h, tools: _t, systemPrompt: _s, provider: _p, ...summary } = c;
          set({ list: [summary, ...get().list.filter((x) => x.id !== c.id)], sidebarOpen: false });
          show(c);
          get().focusComposer();
          return c.id;
        } catch (e) {
          get().showToast(`Could not create a conversation: ${msg(e)}`);
          return null;
        }
      })();
      creating = p.finally(() => { creating = null; });
      return creating;
    },

    pendingNewConversation() { return creating; },

    async renameConversation(id, title) {
      const t = title.trim();
      if (!t) return;
      try {
        const s = await api.renameConversation({ conversationId: id, title: t });
        set({ list: get().list.map((x) => (x.id === id ? s : x)) });
        const c = get().conversation;
        if (c && c.id === id) set({ conversation: { ...c, title: s.title } });
      } catch (e) { get().showToast(`Rename failed: ${msg(e)}`); }
    },

    async deleteConversation(id) {
      try {
        await api.deleteConversation({ conversationId: id });
        set({ list: get().list.filter((x) => x.id !== id) });
        if (get().activeId === id) await get().openConversation(null);
      } catch (e) { get().showToast(`Delete failed: ${msg(e)}`); }
    },

    async setDemoTools(on) {
      // The choice is remembered for new conversations, and applies to the open one.
      const view = get().settingsView;
      if (!view || view.settings.demoTools !== on) void get().updateSettings({ demoTools: on });
      const id = get().activeId;
      if (!id) return;
      const demo = get().tools.filter((t) => t.source === DEMO_SOURCE).map((t) => t.spec.function.name);
      const cur = get().conversation?.tools ?? [];
      const next = on ? [...new Set([...cur, ...demo])] : cur.filter((n) => !demo.includes(n));
      const put = (tools: string[]) => { const c = get().conversation; if (c && c.id === id) set({ conversation: { ...c, tools } }); };
      put(next);   // the toggle answers at once; the core's answer confirms or reverts it
      try { put((await api.setConversationTools({ conversationId: id, tools: next })).tools); }
      catch (e) { put(cur); get().showToast(`Could not change tools: ${msg(e)}`); }
    },

    async deleteMessage(messageId) {
      if (get().generation) return;
      try {
        const c = await api.deleteMessage({ messageId });
        if (get().activeId === c.id) show(c);
        set({ editingId: null });
      } catch (e) { get().showToast(`Could not remove the message: ${msg(e)}`); }
    },
    async exportConversation(id, format) {
      try { return await api.exportConversation({ conversationId: id, format }); }
      catch (e) { get().showToast(`Export failed: ${msg(e)}`); return null; }
    },

    async importConversation(data, format) {
      try {
        const c = await api.importConversation(format ? { data, format } : { data });
        await get().refreshList();
        show(c);
        get().showToast(`Imported “${c.title}”`);
      } catch (e) { get().showToast(`Import failed: ${msg(e)}`); }
    },

    async switchBranch(messageId) {
      if (get().generation) return;
      try {
        const c = await api.switchBranch({ messageId });
        if (get().activeId === c.id) show(c);
      } catch (e) { get().showToast(`Could not switch branch: ${msg(e)}`); }
    },

    applyConversationEvent(e) {
      if (e.type === 'deleted') {
        set({ list: get().list.filter((x) => x.id !== e.conversationId) });
        if (get().activeId === e.conversationId) void get().openConversation(null);
        return;
      }
      const s = e.conversation;
      const list = get().list;
      const i = list.findIndex((x) => x.id === s.id);
      const next = i >= 0 ? list.map((x) => (x.id === s.id ? s : x)) : [s, ...list];
      next.sort((a, b) => b.updatedAt - a.updatedAt);
      set({ list: next });
      const c = get().conversation;
      if (c && c.id === s.id && c.title !== s.title) set({ conversation: { ...c, title: s.title } });
    },
  };
};

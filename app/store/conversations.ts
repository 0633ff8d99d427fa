// conversations.ts — the conversation list (with search) and the open conversation's message tree.
import type { ConversationFull, MessageView } from '../contract.ts';
import { selectionFor, visiblePath } from './tree.ts';
import type { ConversationsSlice, SliceCreator } from './types.ts';

export function indexMessages(msgs: MessageView[]): Record<string, MessageView> {
  const out: Record<string, MessageView> = {};
  for (const m of msgs) out[m.id] = m;
  return out;
}

export function selectionForConversation(c: ConversationFull, messages: Record<string, MessageView>): Record<string, string> {
  if (c.activeLeafId && messages[c.activeLeafId]) return selectionFor(messages, c.activeLeafId);
  return {};
}

export const createConversationsSlice: SliceCreator<ConversationsSlice> = (set, get, client) => ({
  list: [],
  query: '',
  activeId: null,
  messages: {},
  selected: {},
  loadingConversation: false,

  async refreshList() {
    const q = get().query.trim();
    try {
      const list = await client.call('conversations.list', q ? { query: q } : {});
      if (get().query.trim() === q) set({ list });
    } catch (e) { get().showToast(`Could not list conversations: ${(e as Error).message}`); }
  },

  async setQuery(q) {
    set({ query: q });
    await get().refreshList();
  },

  async openConversation(id) {
    if (id === null) { set({ activeId: null, messages: {}, selected: {} }); return; }
    set({ activeId: id, loadingConversation: true, editingId: null });
    try {
      const c = await client.call('conversations.get', { id });
      if (get().activeId !== id) return;
      const messages = indexMessages(c.messages);
      // A generation streaming into this conversation keeps its live message.
      const gen = get().generation;
      if (gen && gen.conversationId === id) {
        const live = get().messages[gen.messageId];
        if (live && !messages[live.id]) messages[live.id] = live;
      }
      set({ messages, selected: selectionForConversation(c, messages), loadingConversation: false });
    } catch (e) {
      set({ loadingConversation: false });
      get().showToast(`Could not open conversation: ${(e as Error).message}`);
    }
  },

  async newConversation(opts) {
    try {
      const c = await client.call('conversations.create', { demoTools: opts?.demoTools ?? false });
      set({ list: [c, ...get().list.filter((x) => x.id !== c.id)], activeId: c.id, messages: {}, selected: {}, draft: '' });
      get().focusComposer();
      return c.id;
    } catch (e) {
      get().showToast(`Could not create a conversation: ${(e as Error).message}`);
      return null;
    }
  },

  async renameConversation(id, title) {
    const t = title.trim();
    if (!t) return;
    try {
      const c = await client.call('conversations.rename', { id, title: t });
      set({ list: get().list.map((x) => (x.id === id ? { ...x, ...c } : x)) });
    } catch (e) { get().showToast(`Rename failed: ${(e as Error).message}`); }
  },

  async deleteConversation(id) {
    try {
      await client.call('conversations.delete', { id });
      set({ list: get().list.filter((x) => x.id !== id) });
      if (get().activeId === id) await get().openConversation(null);
    } catch (e) { get().showToast(`Delete failed: ${(e as Error).message}`); }
  },

  async setDemoTools(id, on) {
    try {
      const c = await client.call('conversations.update', { id, demoTools: on });
      set({ list: get().list.map((x) => (x.id === id ? { ...x, ...c } : x)) });
    } catch (e) { get().showToast(`Could not change tools: ${(e as Error).message}`); }
  },

  async exportConversation(id, format) {
    try { return await client.call('conversations.export', { id, format }); }
    catch (e) { get().showToast(`Export failed: ${(e as Error).message}`); return null; }
  },

  async importConversation(data) {
    try {
      const c = await client.call('conversations.import', { data });
      await get().refreshList();
      await get().openConversation(c.id);
      get().showToast(`Imported “${c.title}”`);
    } catch (e) { get().showToast(`Import failed: ${(e as Error).message}`); }
  },

  selectBranch(messageId) {
    const { messages, selected } = get();
    const m = messages[messageId];
    if (!m) return;
    set({ selected: { ...selected, [m.parentId ?? '__root__']: messageId } });
  },
});

export { visiblePath };

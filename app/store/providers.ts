// providers.ts — remote engines (vLLM, SGLang, another Karakoram...) and which provider generates.
// The key goes to the core once and never comes back: the list says only whether one is set.
import { LOCAL_PROVIDER, type RemoteEndpointView } from '../contract.ts';
import type { AppState, ProvidersSlice, SliceCreator } from './types.ts';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const createProvidersSlice: SliceCreator<ProvidersSlice> = (set, get, api) => ({
  providers: { remotes: [], active: null },
  remoteCheck: null,
  remoteBusy: false,
  async loadProviders() {
    try { set({ providers: await api.listRemotes({}) }); } catch { /* an older core: no remotes */ }
  },
  async checkRemote(input) {
    set({ remoteBusy: true, remoteCheck: null });
    try { set({ remoteCheck: await api.checkRemote(input) }); }
    catch (e) { set({ remoteCheck: { ok: false, error: msg(e), baseUrl: input.baseUrl, models: [], maxContext: null } }); }
    finally { set({ remoteBusy: false }); }
  },
  async saveRemote(input) {
    set({ remoteBusy: true, remoteCheck: null });
    try {
      const saved = await api.saveRemote(input);
      await get().loadProviders();
      return saved.id;
    } catch (e) {
      set({ remoteCheck: { ok: false, error: msg(e), baseUrl: input.baseUrl, models: [], maxContext: null } });
      return null;
    } finally { set({ remoteBusy: false }); }
  },
  async deleteRemote(id) {
    try { await api.deleteRemote({ id }); await get().loadProviders(); } catch (e) { get().showToast(`Could not remove the remote: ${msg(e)}`); }
  },
  async selectProvider(id) {
    try { set({ providers: await api.selectProvider({ id }) }); } catch (e) { get().showToast(`Could not switch engines: ${msg(e)}`); }
  },
  async setConversationProvider(provider) {
    const c = get().conversation;
    if (!c) return;
    try {
      const updated = await api.setConversationProvider({ conversationId: c.id, provider });
      const cur = get().conversation;
      if (cur && cur.id === c.id) set({ conversation: { ...cur, provider: updated.provider } });
    } catch (e) { get().showToast(`Could not switch this conversation's engine: ${msg(e)}`); }
  },
  applyProviders(v) { set({ providers: v }); },
});

/** The remote the open conversation generates with (its own choice, else the default), or null:
 *  the local engine. A choice naming a removed remote follows the default, as the core does. */
export function selectEffectiveRemote(s: AppState): RemoteEndpointView | null {
  const choice = s.conversation?.provider ?? null;
  if (choice === LOCAL_PROVIDER) return null;
  const find = (id: string | null) => (id ? s.providers.remotes.find((r) => r.id === id) ?? null : null);
  return find(choice) ?? find(s.providers.active);
}

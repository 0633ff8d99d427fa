// tools.ts — the Tools page (MCP servers, granted folders, approval policies), the approval
// cards' answers and the composer's per-conversation tool selection. The core keeps all of it;
// this slice mirrors what the page shows and says what failed.
import type { SliceCreator, ToolsSlice } from './types.ts';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const createToolsSlice: SliceCreator<ToolsSlice> = (set, get, api) => {
  const attempt = async (what: string, fn: () => Promise<void>): Promise<boolean> => {
    try { await fn(); set({ toolsError: null }); return true; } catch (e) { set({ toolsError: `${what}: ${msg(e)}` }); return false; }
  };
  return {
    mcpServers: [],
    policies: [],
    grantedFolders: [],
    mcpLogs: {},
    toolsError: null,
    async loadMcpLog(name) {
      await attempt(`Could not read the log of '${name}'`, async () => {
        const log = await api.getMcpLog({ name });
        set({ mcpLogs: { ...get().mcpLogs, [name]: log.map((l) => `${l.stream === 'stderr' ? '!' : '·'} ${l.text}`) } });
      });
    },
    async loadToolsPage() {
      await attempt('Could not load the tools', async () => {
        const [mcpServers, policies, grantedFolders, tools] = await Promise.all([
          api.listMcpServers({}), api.listPolicies({}), api.getGrantedFolders({}), api.listTools({}),
        ]);
        set({ mcpServers, policies, grantedFolders, tools });
      });
    },
    async refreshTools() {
      try { set({ tools: await api.listTools({}) }); } catch { /* the list stays as it was */ }
    },
    async saveMcpServer(config) {
      return attempt(`Could not save '${config.name}'`, async () => { await api.saveMcpServer({ config }); await get().loadToolsPage(); });
    },
    async setMcpEnabled(name, enabled) {
      await attempt(`Could not ${enabled ? 'enable' : 'disable'} '${name}'`, async () => { await api.setMcpServerEnabled({ name, enabled }); await get().loadToolsPage(); });
    },
    async restartMcp(name) {
      await attempt(`Could not restart '${name}'`, async () => { await api.restartMcpServer({ name }); await get().loadToolsPage(); });
    },
    async deleteMcp(name) {
      await attempt(`Could not remove '${name}'`, async () => { await api.deleteMcpServer({ name }); await get().loadToolsPage(); });
    },
    async importMcpJson(text) {
      await attempt('Could not import mcp.json', async () => { await api.importMcpJson({ text }); await get().loadToolsPage(); });
    },
    async allowServer(server) {
      await attempt(`Could not allow the tools of '${server}'`, async () => { set({ policies: await api.allowServer({ server }) }); });
    },
    async revokePolicy(p) {
      await attempt('Could not revoke the policy', async () => {
        await api.revokePolicy({ scope: p.scope, server: p.server, tool: p.tool });
        set({ policies: await api.listPolicies({}) });
      });
    },
    async setGrantedFolders(folders) {
      await attempt('Could not grant the folders', async () => { set({ grantedFolders: await api.setGrantedFolders({ folders }) }); });
    },
    async decideToolCall(callId, kind, message) {
      const id = get().activeId;
      if (!id) return;
      try {
        const r = await api.decideToolCall({ conversationId: id, callId, kind, ...(message?.trim() ? { message: message.trim() } : {}) });
        if (!r.decided) get().showToast('That call is no longer waiting for a decision');
        if (kind === 'always_tool') set({ policies: await api.listPolicies({}) });
      } catch (e) { get().showToast(`Could not send the decision: ${msg(e)}`); }
    },
    async toggleConversationTool(name, on) {
      const c = get().conversation;
      if (!c) return;
      const next = on ? [...new Set([...c.tools, name])] : c.tools.filter((n) => n !== name);
      try {
        const updated = await api.setConversationTools({ conversationId: c.id, tools: next });
        const cur = get().conversation;
        if (cur && cur.id === c.id) set({ conversation: { ...cur, tools: updated.tools } });
      } catch (e) { get().showToast(`Could not change tools: ${msg(e)}`); }
    },
    applyMcpServers(v) { set({ mcpServers: v }); void get().refreshTools(); },
  };
};

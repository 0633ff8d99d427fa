// tool-service.ts — every tool a conversation can declare, whatever runs it: the demo model's
// demo tools (server 'demo'), read_file / list_dir over the granted folders (server 'files') and
// the tools of each running MCP server the user added (server = its name; exposed to the model as
// SERVER__TOOL so two servers never collide). It keeps the MCP configurations and the granted
// folders as app state, starts only enabled servers, and answers "what is this tool, what is its
// schema, run it" for the chat service's agent loop.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ToolSpec } from '../../../common/chat-types.ts';
import {
  ContractError, McpServerConfigSchema, type McpServerConfig, type McpServerView, type ToolInfo,
} from '../../../common/contract.ts';
import { DEMO_SERVER } from '../../../common/tool-policy.ts';
import { pyJson, ToolRegistry } from './builtin.ts';
import { FileAccessError, listDirConfined, listDirSpec, readFileConfined, readFileSpec } from './files.ts';
import { McpConnection, type McpLogLine, parseMcpJson } from './mcp.ts';
import type { ToolOutcome } from './runner.ts';

/** The server name read_file / list_dir are approved under. */
export const FILES_SERVER = 'files';
/** Between an MCP server's name and its tool's in the name the model sees. */
export const MCP_NAME_SEPARATOR = '__';
const STATE_SERVERS = 'mcpServers';
const STATE_FOLDERS = 'grantedFolders';

export interface StateStore { readState(key: string): unknown; writeState(key: string, value: unknown): void }

/** One tool, resolved for a call. */
export interface ResolvedTool {
  name: string;
  server: string;
  /** Its name on its own server (an MCP tool's original name). */
  tool: string;
  schema: Record<string, unknown> | undefined;
  run(args: Record<string, unknown>, opts: { timeoutMs: number; signal: AbortSignal }): Promise<ToolOutcome> | ToolOutcome;
}

/** What the chat service and the agent loop need of the tools (tests give their own). */
export interface ToolCatalog {
  has(name: string): boolean;
  specs(names: string[]): ToolSpec[];
  resolve(name: string): ResolvedTool | null;
}

export class ToolService implements ToolCatalog {
  readonly demo = new ToolRegistry();
  private readonly servers = new Map<string, McpConnection>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly state: StateStore) {
    for (const c of this.loadConfigs()) this.servers.set(c.name, this.connect(c));
  }

  /** Starts the enabled servers (in the background; their state shows how it went). */
  start(): void {
    for (const s of this.servers.values()) if (s.config.enabled) void s.start();
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.stop()));
  }

  onChange(cb: () => void): () => void { this.listeners.add(cb); return () => this.listeners.delete(cb); }
  private changed(): void { for (const cb of this.listeners) cb(); }

  private connect(c: McpServerConfig): McpConnection {
    const conn = new McpConnection(c);
    conn.onChange(() => this.changed());
    return conn;
  }

  private loadConfigs(): McpServerConfig[] {
    const raw = this.state.readState(STATE_SERVERS);
    if (!Array.isArray(raw)) return [];
    // A damaged entry is dropped, never a reason to lose the others.
    return raw.flatMap((x) => { const r = McpServerConfigSchema.safeParse(x); return r.success ? [r.data] : []; });
  }

  private saveConfigs(): void {
    this.state.writeState(STATE_SERVERS, [...this.servers.values()].map((s) => s.config));
  }

  // Tools ------------------------------------------------------------------------------------

  list(): ToolInfo[] {
    const out: ToolInfo[] = this.demo.list();
    out.push(
      { spec: readFileSpec, source: 'builtin', label: 'Read a file (granted folders only)', server: FILES_SERVER },
      { spec: listDirSpec, source: 'builtin', label: 'List a folder (granted folders only)', server: FILES_SERVER },
    );
    for (const s of this.servers.values()) {
      if (s.state !== 'running') continue;
      for (const t of s.tools) {
        out.push({
          spec: { type: 'function', function: { name: exposedName(s.config.name, t.name), description: t.description, parameters: t.inputSchema } },
          source: 'mcp', label: `${t.name} (${s.config.name})`, server: s.config.name,
        });
      }
    }
    return out;
  }

  has(name: string): boolean { return this.resolve(name) !== null; }

  specs(names: string[]): ToolSpec[] {
    const all = new Map(this.list().map((t) => [t.spec.function.name, t.spec]));
    return names.flatMap((n) => (all.has(n) ? [all.get(n)!] : []));
  }

  resolve(name: string): ResolvedTool | null {
    const demo = this.demo.list().find((t) => t.spec.function.name === name);
    if (demo) {
      return { name, server: DEMO_SERVER, tool: name, schema: demo.spec.function.parameters, run: (args) => this.demo.run(name, JSON.stringify(args)) };
    }
    if (name === readFileSpec.function.name || name === listDirSpec.function.name) {
      const spec = name === readFileSpec.function.name ? readFileSpec : listDirSpec;
      return { name, server: FILES_SERVER, tool: name, schema: spec.function.parameters, run: (args) => this.runFileTool(name, args) };
    }
    const at = name.indexOf(MCP_NAME_SEPARATOR);
    if (at <= 0) return null;
    const s = this.servers.get(name.slice(0, at));
    const toolName = name.slice(at + MCP_NAME_SEPARATOR.length);
    const t = s?.state === 'running' ? s.tools.find((x) => x.name === toolName) : undefined;
    if (!s || !t) return null;
    return { name, server: s.config.name, tool: toolName, schema: t.inputSchema, run: (args, opts) => s.call(toolName, args, opts) };
  }

  private runFileTool(name: string, args: Record<string, unknown>): ToolOutcome {
    const folders = this.grantedFolders();
    try {
      const path = typeof args.path === 'string' ? args.path : '';
      if (name === readFileSpec.function.name) {
        const r = readFileConfined(folders, path);
        return { result: r.truncated ? `${r.content}\n[file truncated: ${r.content.length} of ${r.size} bytes shown]` : r.content, isError: false };
      }
      return { result: pyJson(listDirConfined(folders, path)), isError: false };
    } catch (e) {
      if (e instanceof FileAccessError) return { result: pyJson({ error: e.message }), isError: true };
      return { result: pyJson({ error: (e as Error).message }), isError: true };
    }
  }

  // Granted folders ---------------------------------------------------------------------------

  grantedFolders(): string[] {
    const v = this.state.readState(STATE_FOLDERS);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  setGrantedFolders(folders: string[]): string[] {
    const abs = [...new Set(folders.map((f) => resolve(f)))];
    const bad = abs.find((f) => !existsSync(f) || !statSync(f).isDirectory());
    if (bad) throw new ContractError('bad_request', `'${bad}' is not an existing folder`);
    this.state.writeState(STATE_FOLDERS, abs);
    return abs;
  }

  // MCP servers ------------------------------------------------------------------------------

  views(): McpServerView[] { return [...this.servers.values()].map(view); }

  private server(name: string): McpConnection {
    const s = this.servers.get(name);
    if (!s) throw new ContractError('not_found', `no MCP server named '${name}'`);
    return s;
  }

  async save(config: McpServerConfig): Promise<McpServerView> {
    if (config.name === DEMO_SERVER || config.name === FILES_SERVER) throw new ContractError('bad_request', `'${config.name}' is the name of a built-in tool group`);
    const old = this.servers.get(config.name);
    if (old) await old.stop();
    const conn = this.connect(config);
    this.servers.set(config.name, conn);
    this.saveConfigs();
    if (config.enabled) await conn.start();
    this.changed();
    return view(conn);
  }

  async remove(name: string): Promise<boolean> {
    const s = this.servers.get(name);
    if (!s) return false;
    await s.stop();
    this.servers.delete(name);
    this.saveConfigs();
    this.changed();
    return true;
  }

  async setEnabled(name: string, enabled: boolean): Promise<McpServerView> {
    const s = this.server(name);
    return this.save({ ...s.config, enabled });
  }

  async restart(name: string): Promise<McpServerView> {
    const s = this.server(name);
    await s.restart();
    return view(s);
  }

  log(name: string): McpLogLine[] { return this.server(name).log; }

  async importJson(text: string): Promise<McpServerView[]> {
    let configs: McpServerConfig[];
    try { configs = parseMcpJson(text); } catch (e) { throw new ContractError('bad_request', (e as Error).message); }
    const out: McpServerView[] = [];
    for (const c of configs) out.push(await this.save(c));
    return out;
  }
}

export function exposedName(server: string, tool: string): string { return `${server}${MCP_NAME_SEPARATOR}${tool}`; }

function view(s: McpConnection): McpServerView {
  return {
    config: s.config, state: s.state, error: s.error, pid: s.pid,
    tools: s.tools.map((t) => ({ name: t.name, exposedAs: exposedName(s.config.name, t.name), ...(t.description ? { description: t.description } : {}) })),
  };
}

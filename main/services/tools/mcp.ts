// mcp.ts — one connection to an MCP server through @modelcontextprotocol/sdk: a child process over
// stdio (its stderr kept in a bounded log) or a Streamable HTTP endpoint. It lists the server's
// tools with their input schemas and calls them with a timeout and an abort signal. A server that
// exits or drops the connection is 'crashed' (the log says how), a call in flight then fails
// with that reason, and restart() starts it again. mcp.json files in the common `mcpServers`
// shape (Claude Desktop, Cursor, …) are read by parseMcpJson.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpServerConfigSchema, type McpServerConfig, type McpServerState } from '../../../common/contract.ts';
import type { ToolOutcome } from './runner.ts';

/** Log lines kept per server (stderr, lifecycle); older ones drop off. */
export const MAX_LOG_LINES = 500;
/** How long connecting (spawn + initialize) may take. */
const CONNECT_TIMEOUT_MS = 20_000;
/** Transport errors that mean an HTTP server is gone (not a one-off hiccup). */
const HTTP_LOST = /fetch failed|ECONNREFUSED|Maximum reconnection attempts/;
/** The client's name and version as servers see them. */
const CLIENT_INFO = { name: 'karakoram', version: '0.1.0' };

export interface McpTool { name: string; description?: string; inputSchema: Record<string, unknown> }
export interface McpLogLine { at: number; stream: 'stderr' | 'event'; text: string }

export class McpConnection {
  private client: Client | null = null;
  private transport: Transport | null = null;
  private stateValue: McpServerState = 'stopped';
  private errorValue: string | null = null;
  private toolsValue: McpTool[] = [];
  private readonly logLines: McpLogLine[] = [];
  /** Set while we close on purpose, so the close is not taken for a crash. */
  private closing = false;
  private readonly listeners = new Set<() => void>();
  /** Calls in flight, so a lost connection can end them. */
  private readonly inFlight = new Set<AbortController>();

  constructor(readonly config: McpServerConfig) {}

  get state(): McpServerState { return this.stateValue; }
  get error(): string | null { return this.errorValue; }
  get tools(): McpTool[] { return this.toolsValue; }
  get log(): McpLogLine[] { return [...this.logLines]; }
  /** The server process id (stdio only, while it runs). */
  get pid(): number | null { return this.transport instanceof StdioClientTransport ? this.transport.pid : null; }

  onChange(cb: () => void): () => void { this.listeners.add(cb); return () => this.listeners.delete(cb); }
  private changed(): void { for (const cb of this.listeners) cb(); }

  private note(stream: McpLogLine['stream'], text: string): void {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      this.logLines.push({ at: Date.now(), stream, text: line });
    }
    if (this.logLines.length > MAX_LOG_LINES) this.logLines.splice(0, this.logLines.length - MAX_LOG_LINES);
  }

  private setState(s: McpServerState, error: string | null = null): void {
    this.stateValue = s;
    this.errorValue = error;
    this.changed();
  }

  private makeTransport(): Transport {
    const c = this.config;
    if (c.transport === 'stdio') {
      const t = new StdioClientTransport({
        command: c.command, args: c.args, cwd: c.cwd ?? undefined, stderr: 'pipe',
        env: { ...getDefaultEnvironment(), ...c.env },
      });
      t.stderr?.on('data', (d: Buffer) => this.note('stderr', d.toString('utf8')));
      return t;
    }
    return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers } });
  }

  /** Connects and lists the tools; on failure the state is 'error' and the reason is logged. */
  async start(): Promise<void> {
    if (this.stateValue === 'running' || this.stateValue === 'starting') return;
    this.setState('starting');
    this.note('event', `starting ${describe(this.config)}`);
    const transport = this.makeTransport();
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    this.closing = false;
    transport.onclose = () => {
      if (this.closing || this.transport !== transport) return;
      const why = this.config.transport === 'stdio' ? 'the server process exited' : 'the server closed the connection';
      this.note('event', why);
      this.setState('crashed', why);
    };
    transport.onerror = (e) => {
      this.note('event', `transport error: ${e.message}`);
      // Over HTTP a server that went away shows only as failing fetches, while the request in
      // flight would wait for its timeout: take it as lost and end the calls at once.
      if (this.config.transport === 'http' && this.transport === transport && this.stateValue === 'running' && HTTP_LOST.test(e.message)) {
        const why = `the server is unreachable (${e.message})`;
        // The Tools page's log says the server is gone, not only that one fetch failed.
        this.note('event', why);
        this.setState('crashed', why);
        for (const ctl of this.inFlight) ctl.abort(new Error(this.errorValue ?? 'connection lost'));
      }
    };
    this.transport = transport;
    this.client = client;
    try {
      await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
      const listed = await client.listTools(undefined, { timeout: CONNECT_TIMEOUT_MS });
      this.toolsValue = listed.tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema as Record<string, unknown> }));
      const v = client.getServerVersion();
      this.note('event', `connected${v ? ` to ${v.name} ${v.version}` : ''}: ${this.toolsValue.length} tools`);
      this.setState('running');
    } catch (e) {
      const msg = (e as Error).message;
      this.note('event', `could not start: ${msg}`);
      await this.closeTransport();
      this.setState('error', msg);
    }
  }

  private async closeTransport(): Promise<void> {
    this.closing = true;
    const c = this.client;
    this.client = null;
    this.transport = null;
    try { await c?.close(); } catch { /* already gone */ }
  }

  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    await this.closeTransport();
    this.note('event', 'stopped');
    this.toolsValue = [];
    this.setState('stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Calls a tool; the server's error, a crash, a timeout or a stop become an error outcome. */
  async call(name: string, args: Record<string, unknown>, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<ToolOutcome> {
    const client = this.client;
    if (!client || this.stateValue !== 'running') {
      return { result: JSON.stringify({ error: `MCP server '${this.config.name}' is not running${this.errorValue ? ` (${this.errorValue})` : ''}` }), isError: true };
    }
    const ctl = new AbortController();
    const onOuter = () => ctl.abort(new Error('stopped'));
    if (opts.signal?.aborted) onOuter(); else opts.signal?.addEventListener('abort', onOuter, { once: true });
    this.inFlight.add(ctl);
    try {
      const r = await client.callTool({ name, arguments: args }, undefined, { timeout: opts.timeoutMs, signal: ctl.signal });
      return { result: contentText(r), isError: r.isError === true };
    } catch (e) {
      const msg = ctl.signal.aborted && ctl.signal.reason instanceof Error ? ctl.signal.reason.message : (e as Error).message;
      const crashed = (this.stateValue as McpServerState) === 'crashed' && !msg.includes(this.errorValue ?? '\0') ? ` (${this.errorValue})` : '';
      return { result: JSON.stringify({ error: `MCP server '${this.config.name}': ${msg}${crashed}` }), isError: true };
    } finally {
      this.inFlight.delete(ctl);
      opts.signal?.removeEventListener('abort', onOuter);
    }
  }
}

function describe(c: McpServerConfig): string {
  return c.transport === 'stdio' ? `${c.command} ${c.args.join(' ')}`.trim() : c.url;
}

/** A tool result as the text the model reads: text parts as they are, other parts described. */
export function contentText(r: { content?: unknown; structuredContent?: unknown; toolResult?: unknown }): string {
  const parts = Array.isArray(r.content) ? r.content as Array<Record<string, unknown>> : [];
  if (!parts.length) return JSON.stringify(r.structuredContent ?? r.toolResult ?? null);
  return parts.map((p) => {
    if (p.type === 'text') return String(p.text ?? '');
    if (p.type === 'resource' && p.resource && typeof (p.resource as { text?: unknown }).text === 'string') return String((p.resource as { text: string }).text);
    if (p.type === 'resource_link') return `[resource ${String(p.uri ?? '')}]`;
    return `[${String(p.type)} content${typeof p.mimeType === 'string' ? ` (${p.mimeType})` : ''}]`;
  }).join('\n');
}

/**
 * Reads an mcp.json: `{ "mcpServers": { NAME: { command, args?, env?, cwd? } | { url, headers? } } }`.
 * Imported servers start disabled: the user enables each one. Throws a readable Error.
 */
export function parseMcpJson(text: string): McpServerConfig[] {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) { throw new Error(`mcp.json is not valid JSON: ${(e as Error).message}`); }
  const servers = (doc as { mcpServers?: unknown })?.mcpServers;
  if (!servers || typeof servers !== 'object' || Array.isArray(servers)) throw new Error('mcp.json has no "mcpServers" object');
  return Object.entries(servers as Record<string, Record<string, unknown>>).map(([name, s]) => {
    const base = s && typeof s === 'object' ? s : {};
    const shaped = typeof base.url === 'string'
      ? { name, transport: 'http', url: base.url, headers: base.headers ?? {}, enabled: false }
      : { name, transport: 'stdio', command: base.command, args: base.args ?? [], env: base.env ?? {}, cwd: base.cwd ?? null, enabled: false };
    const r = McpServerConfigSchema.safeParse(shaped);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(`mcp.json server '${name}': ${issue ? `${issue.path.join('.') || '(entry)'}: ${issue.message}` : 'invalid'}`);
    }
    return r.data;
  });
}

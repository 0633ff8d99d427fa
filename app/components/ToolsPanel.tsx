// ToolsPanel.tsx — the Tools page: MCP servers (add over stdio or Streamable HTTP, import an
// mcp.json, enable, restart, log, their tools), the built-in tools, the folders read_file /
// list_dir may read, the standing approval policies (revocable) and the agent loop's step limit.
import { useEffect, useState } from 'react';
import { DEFAULT_TOOL_STEPS, MAX_TOOL_STEPS, type McpServerView } from '../contract.ts';
import { useApp } from '../store/index.ts';
import { Num } from './SettingsPanel.tsx';
import { parseEnvLines, parseHeaderLines, splitArgs } from '../mcp-form.ts';

export function ToolsPanel() {
  const close = useApp((s) => s.setPanel);
  const load = useApp((s) => s.loadToolsPage);
  const error = useApp((s) => s.toolsError);
  useEffect(() => { void load(); }, [load]);
  return (
    <section className="panel" data-testid="tools-panel" aria-label="Tools">
      <header className="panel-head"><h2>Tools</h2><button type="button" className="icon-btn" onClick={() => close('tools')} aria-label="Close">✕</button></header>
      <div className="panel-body">
        {error && <p className="error-text" data-testid="tools-error">{error}</p>}
        <Policies />
        <StepLimit />
        <McpServers />
        <AddServer />
        <BuiltIns />
        <Folders />
      </div>
    </section>
  );
}

function Policies() {
  const policies = useApp((s) => s.policies);
  const revoke = useApp((s) => s.revokePolicy);
  return (
    <>
      <h3>Approval policies</h3>
      <p className="muted small">Calls these cover run without a card. Everything else asks first.</p>
      {policies.length === 0 && <p className="muted small" data-testid="no-policies">None: every call asks.</p>}
      <ul className="plain-list">
        {policies.map((p) => (
          <li key={`${p.scope}:${p.server}:${p.tool ?? ''}`} data-testid="policy-row" data-server={p.server} data-tool={p.tool ?? ''}>
            {p.scope === 'server' ? <>All tools of <b>{p.server}</b></> : <><b>{p.tool}</b> of {p.server}</>}
            {p.demoModelOnly && <span className="muted small"> (only with the demo model)</span>}
            <button type="button" className="btn small" data-testid="revoke-policy" onClick={() => void revoke(p)}>Revoke</button>
          </li>
        ))}
      </ul>
    </>
  );
}

/** Rounds of tool calls one turn may run; out-of-range input is put back, not sent. */
function StepLimit() {
  const steps = useApp((s) => s.settingsView?.settings.maxToolSteps ?? null);
  const update = useApp((s) => s.updateSettings);
  return (
    <>
      <h3>Agent loop</h3>
      <Num label={`Tool rounds per turn (1–${MAX_TOOL_STEPS})`} id="max-tool-steps" value={steps} placeholder={DEFAULT_TOOL_STEPS}
        step={1} min={1} max={MAX_TOOL_STEPS} int onChange={(v) => void update({ maxToolSteps: v ?? DEFAULT_TOOL_STEPS })} />
      <p className="muted small">A turn that is still calling tools after this many rounds stops and says so.</p>
    </>
  );
}

function McpServers() {
  const servers = useApp((s) => s.mcpServers);
  return (
    <>
      <h3>MCP servers</h3>
      {servers.length === 0 && <p className="muted small">None added yet.</p>}
      {servers.map((v) => <ServerRow key={v.config.name} view={v} />)}
    </>
  );
}

function ServerRow({ view }: { view: McpServerView }) {
  const setEnabled = useApp((s) => s.setMcpEnabled);
  const restart = useApp((s) => s.restartMcp);
  const remove = useApp((s) => s.deleteMcp);
  const allowAll = useApp((s) => s.allowServer);
  const c = view.config;
  const allowed = useApp((s) => s.policies.some((p) => p.scope === 'server' && p.server === c.name));
  return (
    <div className="mcp-server" data-testid="mcp-server" data-name={c.name} data-state={view.state}>
      <div className="mcp-head">
        <b>{c.name}</b> <span className="muted small">{c.transport === 'stdio' ? `${c.command} ${c.args.join(' ')}` : c.url}</span>
        <span className={`mcp-state ${view.state}`} data-testid="mcp-state">{view.state}</span>
      </div>
      {view.error && <div className="error-text small" data-testid="mcp-error">{view.error}</div>}
      <label className="toggle">
        <input type="checkbox" data-testid="mcp-enabled" checked={c.enabled} onChange={(e) => void setEnabled(c.name, e.target.checked)} />
        <span className="toggle-track"><span className="toggle-thumb" /></span> Enabled
      </label>
      <button type="button" className="btn small" data-testid="mcp-restart" onClick={() => void restart(c.name)}>Restart</button>
      <button type="button" className="btn small" data-testid="mcp-remove" onClick={() => void remove(c.name)}>Remove</button>
      {!allowed && (
        <button type="button" className="btn small" data-testid="mcp-allow-all" title="Every tool of this server runs without asking (listed under Approval policies, revocable)"
          onClick={() => void allowAll(c.name)}>Always allow its tools</button>
      )}
      {view.tools.length > 0 && (
        <ul className="plain-list small" data-testid="mcp-tools">
          {view.tools.map((t) => <li key={t.name} data-testid="mcp-tool" title={t.description}>{t.exposedAs}</li>)}
        </ul>
      )}
      <ServerLog name={c.name} />
    </div>
  );
}

function ServerLog({ name }: { name: string }) {
  const lines = useApp((s) => s.mcpLogs[name]);
  const loadLog = useApp((s) => s.loadMcpLog);
  return (
    <>
      <button type="button" className="btn small" data-testid="mcp-show-log" onClick={() => void loadLog(name)}>{lines ? 'Refresh log' : 'Log'}</button>
      {lines && <pre className="mcp-log" data-testid="mcp-log">{lines.join('\n') || '(empty)'}</pre>}
    </>
  );
}

function AddServer() {
  const save = useApp((s) => s.saveMcpServer);
  const importJson = useApp((s) => s.importMcpJson);
  const [transport, setTransport] = useState<'stdio' | 'http'>('stdio');
  const [name, setName] = useState('');
  const [command, setCommand] = useState('');
  const [args, setArgs] = useState('');
  const [url, setUrl] = useState('');
  const [env, setEnv] = useState('');
  const [cwd, setCwd] = useState('');
  const [headers, setHeaders] = useState('');
  const [formError, setFormError] = useState<string | null>(null);
  const [json, setJson] = useState('');
  const submit = async () => {
    let ok: boolean;
    if (transport === 'stdio') {
      const a = splitArgs(args);
      const e = parseEnvLines(env);
      if (!a.ok || !e.ok) { setFormError(!a.ok ? a.error : (e as { error: string }).error); return; }
      ok = await save({ name, transport, command, args: a.value, env: e.value, cwd: cwd.trim() || null, enabled: true });
    } else {
      const h = parseHeaderLines(headers);
      if (!h.ok) { setFormError(h.error); return; }
      ok = await save({ name, transport, url, headers: h.value, enabled: true });
    }
    setFormError(null);
    if (ok) { setName(''); setCommand(''); setArgs(''); setUrl(''); setEnv(''); setCwd(''); setHeaders(''); }
  };
  return (
    <>
      <h3>Add an MCP server</h3>
      <div className="form-grid">
        <select data-testid="mcp-transport" value={transport} onChange={(e) => setTransport(e.target.value as 'stdio' | 'http')}>
          <option value="stdio">Local command (stdio)</option>
          <option value="http">Streamable HTTP</option>
        </select>
        <input data-testid="mcp-name" placeholder="Name (letters, digits, _ . -)" value={name} onChange={(e) => setName(e.target.value)} />
        {transport === 'stdio' ? (
          <>
            <input data-testid="mcp-command" placeholder="Command, e.g. npx" value={command} onChange={(e) => setCommand(e.target.value)} />
            <input data-testid="mcp-args" placeholder='Arguments, space separated ("quote one with spaces")' value={args} onChange={(e) => setArgs(e.target.value)} />
            <input data-testid="mcp-cwd" placeholder="Working folder (optional)" value={cwd} onChange={(e) => setCwd(e.target.value)} />
            <textarea data-testid="mcp-env" rows={2} placeholder="Environment, KEY=value per line (optional)" value={env} onChange={(e) => setEnv(e.target.value)} />
          </>
        ) : (
          <>
            <input data-testid="mcp-url" placeholder="http://127.0.0.1:3001/mcp" value={url} onChange={(e) => setUrl(e.target.value)} />
            <textarea data-testid="mcp-headers" rows={2} placeholder="Headers, Name: value per line (optional)" value={headers} onChange={(e) => setHeaders(e.target.value)} />
          </>
        )}
        {formError && <p className="error-text small" data-testid="mcp-form-error">{formError}</p>}
        <button type="button" className="btn primary" data-testid="mcp-add" disabled={!name || (transport === 'stdio' ? !command : !url)} onClick={() => void submit()}>Add and start</button>
      </div>
      <details>
        <summary>Import an mcp.json</summary>
        <textarea data-testid="mcp-json" rows={4} value={json} placeholder='{"mcpServers": {"name": {"command": "…", "args": []}}}' onChange={(e) => setJson(e.target.value)} />
        <button type="button" className="btn" data-testid="mcp-import" disabled={!json.trim()} onClick={() => void importJson(json)}>Import (disabled until enabled)</button>
      </details>
    </>
  );
}

function BuiltIns() {
  const builtins = useApp((s) => s.tools.filter((t) => t.source !== 'mcp').map((t) => `${t.spec.function.name}\u0000${t.label}`).join('\n'));
  return (
    <>
      <h3>Built-in tools</h3>
      <ul className="plain-list small" data-testid="builtin-tools">
        {builtins.split('\n').filter(Boolean).map((x) => { const [n, l] = x.split('\u0000'); return <li key={n}><b>{n}</b> — {l}</li>; })}
      </ul>
    </>
  );
}

function Folders() {
  const folders = useApp((s) => s.grantedFolders);
  const setFolders = useApp((s) => s.setGrantedFolders);
  const [path, setPath] = useState('');
  return (
    <>
      <h3>Granted folders</h3>
      <p className="muted small">read_file and list_dir read only inside these (symlinks and .. cannot leave them).</p>
      <ul className="plain-list small">
        {folders.map((f) => (
          <li key={f} data-testid="granted-folder">{f}
            <button type="button" className="btn small" onClick={() => void setFolders(folders.filter((x) => x !== f))}>Remove</button>
          </li>
        ))}
      </ul>
      <input data-testid="folder-path" placeholder="/absolute/path/to/folder" value={path} onChange={(e) => setPath(e.target.value)} />
      <button type="button" className="btn" data-testid="folder-add" disabled={!path.trim()} onClick={() => { void setFolders([...folders, path.trim()]); setPath(''); }}>Grant</button>
    </>
  );
}

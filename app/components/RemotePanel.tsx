// RemotePanel.tsx — remote engines in the model panel: an OpenAI-compatible server (vLLM, SGLang,
// KTransformers, Ollama, another Karakoram) with base URL, key and model; "Test connection" runs
// the core's check (a wrong URL or key is said here, not mid-chat); "Use" switches generation to
// it, "Use local engine" back. What a remote cannot do is said beside it. "Edit" puts a remote
// back in the form (its key stays unless a new one is typed); saving re-runs the check.
import { useState } from 'react';
import type { RemoteEndpointView } from '../contract.ts';
import { fmtCount } from '../format.ts';
import { useApp } from '../store/index.ts';
import { capabilitiesOf, DEFAULT_DRAFT, RemoteCapabilities, type CapabilitiesDraft } from './RemoteCapabilities.tsx';

export function RemotePanel() {
  const remotes = useApp((s) => s.providers.remotes);
  const active = useApp((s) => s.providers.active);
  const select = useApp((s) => s.selectProvider);
  const [editing, setEditing] = useState<RemoteEndpointView | null>(null);
  return (
    <div className="remotes" data-testid="remote-panel">
      <h3>Remote engines</h3>
      <p className="muted small">A vLLM or SGLang cluster (or any OpenAI-compatible server) runs the model; chats, tools and history stay here.</p>
      <p className="engine-line" data-testid="provider-active" data-active={active ?? 'local'}>
        Generating with: <strong>{active ? remotes.find((r) => r.id === active)?.name ?? active : 'the local engine'}</strong>
        {active && <button type="button" className="btn ghost" data-testid="use-local" onClick={() => void select(null)}>Use local engine</button>}
      </p>
      {remotes.map((r) => <RemoteRow key={r.id} r={r} active={r.id === active} onEdit={() => setEditing(r)} />)}
      {/* Keyed: the form starts from the remote being edited (or blank for a new one). */}
      <RemoteForm key={editing?.id ?? 'new'} editing={editing} onDone={() => setEditing(null)} />
    </div>
  );
}

function RemoteRow({ r, active, onEdit }: { r: RemoteEndpointView; active: boolean; onEdit(): void }) {
  const select = useApp((s) => s.selectProvider);
  const del = useApp((s) => s.deleteRemote);
  const c = r.capabilities;
  const lacks = [
    !c.tools && 'no tool calling',
    !c.tokenCounts && 'no token counts',
    !c.prefixCache && 'prefix cache managed by the remote',
    c.reasoningField !== 'auto' && `reasoning in ${c.reasoningField}`,
    !c.extraSampling && 'OpenAI sampling fields only',
  ].filter(Boolean).join(' · ');
  return (
    <div className="remote-row" data-testid="remote-row" data-id={r.id} data-active={active ? 'true' : 'false'}>
      <div>
        <strong>{r.name}</strong> <span className="muted">· {r.model} · {r.baseUrl}{r.hasKey ? ' · key set' : ''}</span>
        <div className="muted small" data-testid="remote-caps">
          {c.maxContext ? `${fmtCount(c.maxContext)} tokens of context` : 'context length not reported'}{lacks ? ` · ${lacks}` : ''}
        </div>
      </div>
      {active ? <span className="pill">in use</span>
        : <button type="button" className="btn" data-testid="use-remote" onClick={() => void select(r.id)}>Use</button>}
      <button type="button" className="btn ghost" data-testid="remote-edit" onClick={onEdit}>Edit</button>
      <button type="button" className="icon-btn" aria-label={`Remove ${r.name}`} onClick={() => void del(r.id)}>✕</button>
    </div>
  );
}

function draftOf(r: RemoteEndpointView): CapabilitiesDraft {
  const c = r.capabilities;
  return { tools: c.tools, reasoningField: c.reasoningField, tokenCounts: c.tokenCounts, extraSampling: c.extraSampling, maxContext: c.maxContext ? String(c.maxContext) : '' };
}

function RemoteForm({ editing, onDone }: { editing: RemoteEndpointView | null; onDone(): void }) {
  const check = useApp((s) => s.remoteCheck);
  const busy = useApp((s) => s.remoteBusy);
  const test = useApp((s) => s.checkRemote);
  const save = useApp((s) => s.saveRemote);
  const select = useApp((s) => s.selectProvider);
  const [name, setName] = useState(editing?.name ?? '');
  const [baseUrl, setBaseUrl] = useState(editing?.baseUrl ?? '');
  const [apiKey, setApiKey] = useState('');
  const [model, setModel] = useState(editing?.model ?? '');
  const [caps, setCaps] = useState<CapabilitiesDraft>(editing ? draftOf(editing) : DEFAULT_DRAFT);
  const input = {
    ...(editing ? { id: editing.id } : {}), name: name.trim() || baseUrl.trim(), baseUrl: baseUrl.trim(), model: model.trim(),
    // Editing with the key field left empty keeps the stored key (the core never sends it back).
    ...(editing && !apiKey ? {} : { apiKey }), capabilities: capabilitiesOf(caps),
  };
  const ready = input.baseUrl.length > 0 && input.model.length > 0;
  return (
    <form className="remote-form" data-testid="remote-form" onSubmit={(e) => {
      e.preventDefault();
      if (!ready) return;
      void save(input).then((id) => {
        if (!id) return;
        setApiKey('');
        if (editing) onDone(); else void select(id);
      });
    }}>
      <input className="input" data-testid="remote-name" placeholder="Name (e.g. gpu-box)" value={name} onChange={(e) => setName(e.target.value)} />
      <input className="input" data-testid="remote-url" placeholder="http://gpu-box:8000/v1" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} />
      {editing && <p className="small" data-testid="remote-editing">Editing <strong>{editing.name}</strong></p>}
      <input className="input" data-testid="remote-key" type="password" placeholder={editing?.hasKey ? 'API key (leave empty to keep the one set)' : 'API key (if the server needs one)'} value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="off" />
      <input className="input" data-testid="remote-model" placeholder="Model id (e.g. kimi-k2-thinking)" value={model} onChange={(e) => setModel(e.target.value)} />
      <RemoteCapabilities draft={caps} onChange={setCaps} />
      <div className="row">
        <button type="button" className="btn" data-testid="remote-test" disabled={!ready || busy} onClick={() => void test(input)}>{busy ? 'Checking…' : 'Test connection'}</button>
        <button type="submit" className="btn primary" data-testid="remote-save" disabled={!ready || busy}>{editing ? 'Save changes' : 'Add and use'}</button>
        {editing && <button type="button" className="btn ghost" data-testid="remote-edit-cancel" onClick={onDone}>Cancel</button>}
      </div>
      {check && (check.ok
        ? <p className="ok-text" data-testid="remote-check" data-ok="true">Connected: {check.baseUrl} serves {check.models.map((m) => m.id).join(', ')}{check.maxContext ? ` (${fmtCount(check.maxContext)} tokens of context)` : ''}.</p>
        : <p className="error-text" data-testid="remote-check" data-ok="false">{check.error}</p>)}
    </form>
  );
}

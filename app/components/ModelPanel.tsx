// ModelPanel.tsx — what is loaded (the demo model says what it is), open a local K2-family
// directory, see what it is and a memory plan against this machine, and load it with progress.
import { useState } from 'react';
import type { MemoryPlan, ModelInspection } from '../contract.ts';
import { fmtBytes, fmtCount } from '../format.ts';
import { useApp, type AppState } from '../store/index.ts';
import { ExpertHeatMap } from './ExpertHeatMap.tsx';
import { selectEffectiveRemote } from '../store/providers.ts';
import { RemotePanel } from './RemotePanel.tsx';

export const selectIsDemo = (s: AppState): boolean => {
  const dir = s.engine.model?.dir;
  const local = dir ? s.localModels.find((m) => m.dir === dir) : undefined;
  return local ? local.source === 'bundled' || /demo/i.test(local.label) : /demo/i.test(s.engine.model?.label ?? '');
};

export function ModelBadge() {
  // The engine the open conversation generates with (its own choice, else the default).
  const remote = useApp(selectEffectiveRemote);
  const local = useApp((s) => s.engine.model?.label ?? s.engine.model?.name ?? null);
  const label = remote ? `${remote.model} on ${remote.name}` : local;
  const state = useApp((s) => s.engine.state);
  const isDemo = useApp(selectIsDemo);
  const setPanel = useApp((s) => s.setPanel);
  const text = label ?? (state === 'loading' ? 'Loading…' : 'No model');
  const title = isDemo ? 'Model (Ctrl+M) — the demo model is loaded; get Kimi K2 for real answers' : 'Model (Ctrl+M)';
  return (
    <button type="button" className="model-badge" data-testid="model-badge" data-engine={state} onClick={() => setPanel('model')} title={title}>
      <span className={`engine-dot ${state}`} data-testid="engine-status" data-state={state} aria-label={`engine ${state}`} />
      <span className="model-name">{text}</span>
      {remote ? <span className="pill" data-testid="remote-label">remote</span> : isDemo && <span className="pill" data-testid="demo-label">demo</span>}
    </button>
  );
}

export function ModelPanel() {
  const engine = useApp((s) => s.engine);
  const loaded = useApp((s) => s.loadedInfo);
  const isDemo = useApp(selectIsDemo);
  const localModels = useApp((s) => s.localModels);
  const inspection = useApp((s) => s.inspection);
  const inspectError = useApp((s) => s.inspectError);
  const inspecting = useApp((s) => s.inspecting);
  const loading = useApp((s) => s.loading);
  const inspect = useApp((s) => s.inspectModel);
  const load = useApp((s) => s.loadModel);
  const close = useApp((s) => s.setPanel);
  const [dir, setDir] = useState('');
  const progress = engine.state === 'loading' ? engine.progress : null;

  return (
    <section className="panel" data-testid="model-panel" aria-label="Model">
      <header className="panel-head"><h2>Model</h2><button type="button" className="icon-btn" onClick={() => close('model')} aria-label="Close">✕</button></header>
      <div className="panel-body">
        <h3>Loaded</h3>
        <p className="engine-line" data-testid="engine-line">
          <span className={`engine-dot ${engine.state}`} /> Engine {engine.state}
          {engine.backend ? ` · ${engine.backend}` : ''}{engine.restarts ? ` · ${engine.restarts} restart${engine.restarts > 1 ? 's' : ''}` : ''}
          {engine.error ? <span className="error-text"> — {engine.error}</span> : null}
        </p>
        {engine.backendWhy ? <p className="backend-why" data-testid="backend-why">{engine.backendWhy}</p> : null}
        <ExpertHeatMap />
        {engine.model && isDemo && (
          <p className="demo-note" data-testid="demo-note">
            <strong>{engine.model.label}.</strong> A 12-million-parameter model with Kimi K2's architecture, trained from scratch on
            synthetic chats: it greets, thinks, and calls the demo weather, time and calculator tools. It knows nothing else —
            open a real Kimi K2 checkpoint below for real answers.
          </p>
        )}
        {isDemo && (
          <button type="button" className="btn primary wide" data-testid="get-k2-from-model" onClick={() => close('get-model')}>
            Get Kimi K2 — what it needs on this machine
          </button>
        )}
        {loaded && <ModelFacts m={loaded} />}
        {loaded && <PlanView plan={loaded.memory} />}

        <RemotePanel />

        <h3>Open a local model</h3>
        {localModels.length > 0 && (
          <div className="local-models">
            {localModels.map((m) => (
              <button type="button" key={m.dir} className="chip" data-testid="local-model" title={m.dir}
                onClick={() => { setDir(m.dir); void inspect(m.dir); }}>
                {m.label} <span className="muted">· {m.source}</span>{m.loaded ? ' ✓' : ''}
              </button>
            ))}
          </div>
        )}
        <form className="row" onSubmit={(e) => { e.preventDefault(); if (dir.trim()) void inspect(dir.trim()); }}>
          <input className="input grow" data-testid="model-dir-input" placeholder="/path/to/Kimi-K2-Thinking" value={dir} onChange={(e) => setDir(e.target.value)} />
          <button type="submit" className="btn" data-testid="model-inspect" disabled={!dir.trim() || inspecting}>{inspecting ? 'Reading…' : 'Inspect'}</button>
        </form>
        {inspectError && <p className="error-text" data-testid="model-error">{inspectError}</p>}
        {inspection && (
          <div className="inspection" data-testid="model-inspection">
            <ModelFacts m={inspection} />
            <PlanView plan={inspection.memory} />
            <button type="button" className="btn primary" data-testid="model-load" disabled={loading || engine.state === 'loading'}
              onClick={() => void load(inspection.dir)}>{loading ? 'Loading…' : 'Load this model'}</button>
          </div>
        )}
        {progress && (
          <div className="load-progress" data-testid="model-load-progress">
            <span>{progress.stage}</span>
            <span className="bar"><span style={{ width: `${Math.round(progress.fraction * 100)}%` }} /></span>
            <span>{Math.round(progress.fraction * 100)}%</span>
          </div>
        )}
      </div>
    </section>
  );
}

function ModelFacts({ m }: { m: ModelInspection }) {
  const rows: Array<[string, string, string]> = [
    ['name', 'Name', m.label || m.name],
    ['family', 'Model', m.family],
    ['architecture', 'Architecture', `${m.architecture} (${m.modelType})`],
    ['params', 'Parameters', `${fmtCount(m.params.total)} total · ${fmtCount(m.params.activePerToken)} active/token`],
    ['layers', 'Layers', `${m.layers} (${m.denseLayers} dense)`],
    ['experts', 'Experts', `${m.experts.routed} routed, top-${m.experts.perToken}${m.experts.shared ? ` + ${m.experts.shared} shared` : ''}`],
    ['quantization', 'Quantization', m.quantization],
    ['context', 'Context', `${fmtCount(m.contextLength)} tokens`],
  ];
  return (
    <>
      <dl className="facts" data-testid="model-info">
        {rows.map(([id, k, v]) => <div key={id}><dt>{k}</dt><dd data-testid={`model-${id}`}>{v}</dd></div>)}
      </dl>
      {m.limitations.map((l) => <p key={l} className="muted small" data-testid="model-limitation">{l}</p>)}
    </>
  );
}

export function PlanView({ plan }: { plan: MemoryPlan }) {
  return (
    <div className="plan" data-testid="memory-plan" data-fits={plan.fits ? 'true' : 'false'}>
      <div className="plan-title">Memory plan for {fmtCount(plan.contextLength)} tokens of context</div>
      <p className="muted small" data-testid="context-why">{plan.contextWhy}</p>
      <MemBar label="RAM" need={plan.ramNeededBytes} have={plan.ramAvailableBytes} total={plan.ramTotalBytes} />
      {plan.vramTotalBytes !== null
        ? <MemBar label="VRAM" need={plan.vramNeededBytes} have={plan.vramTotalBytes} total={plan.vramTotalBytes} hint={plan.gpuName ?? undefined} />
        : <div className="membar"><span className="membar-label">VRAM</span><span className="muted">no GPU found — CPU plan</span></div>}
      <p className={plan.fits ? 'ok-text' : 'error-text'} data-testid="memory-fits">{plan.fits ? 'Fits this machine.' : 'Does not fit this machine.'}</p>
      {plan.notes.map((n) => <p key={n} className="muted small">{n}</p>)}
    </div>
  );
}

function MemBar({ label, need, have, total, hint }: { label: string; need: number; have: number; total: number; hint?: string }) {
  const frac = have > 0 ? Math.min(1, need / have) : need > 0 ? 1 : 0;
  return (
    <div className="membar" title={hint}>
      <span className="membar-label">{label}</span>
      <span className={`bar ${need > have ? 'over' : ''}`}><span style={{ width: `${Math.max(1, Math.round(frac * 100))}%` }} /></span>
      <span className="membar-nums">{fmtBytes(need)} of {fmtBytes(have)}{total > have ? ` free (${fmtBytes(total)})` : ''}</span>
    </div>
  );
}

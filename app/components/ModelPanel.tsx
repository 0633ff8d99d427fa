// ModelPanel.tsx — what is loaded (the demo model says what it is), open a local K2-family
// directory, see what it is and a memory plan against this machine, and load it with progress.
import { useState } from 'react';
import type { MemoryPlan, ModelSummary } from '../contract.ts';
import { fmtBytes, fmtCount } from '../format.ts';
import { useApp } from '../store/index.ts';

export function ModelBadge() {
  const model = useApp((s) => s.model);
  const engine = useApp((s) => s.engine);
  const setPanel = useApp((s) => s.setPanel);
  const label = model ? model.name : engine.state === 'loading' ? 'Loading…' : 'No model';
  return (
    <button type="button" className="model-badge" data-testid="model-badge" data-engine={engine.state} onClick={() => setPanel('model')} title="Model (Ctrl+M)">
      <span className={`engine-dot ${engine.state}`} data-testid="engine-status" data-state={engine.state} aria-label={`engine ${engine.state}`} />
      <span className="model-name">{label}</span>
      {model?.isDemo && <span className="pill" data-testid="demo-label">demo</span>}
    </button>
  );
}

export function ModelPanel() {
  const model = useApp((s) => s.model);
  const plan = useApp((s) => s.plan);
  const engine = useApp((s) => s.engine);
  const inspection = useApp((s) => s.inspection);
  const inspectError = useApp((s) => s.inspectError);
  const inspecting = useApp((s) => s.inspecting);
  const inspect = useApp((s) => s.inspectModel);
  const load = useApp((s) => s.loadModel);
  const progress = useApp((s) => s.loadProgress);
  const close = useApp((s) => s.setPanel);
  const [dir, setDir] = useState('');

  return (
    <section className="panel" data-testid="model-panel" aria-label="Model">
      <header className="panel-head"><h2>Model</h2><button type="button" className="icon-btn" onClick={() => close('model')} aria-label="Close">✕</button></header>
      <div className="panel-body">
        <h3>Loaded</h3>
        {model ? (
          <>
            {model.isDemo && (
              <p className="demo-note" data-testid="demo-note">
                <strong>Demo model.</strong> A 12.1M-parameter model with Kimi K2's architecture, trained from scratch on synthetic
                chats. It greets, thinks, and calls the demo weather, time and calculator tools. It knows nothing else — open a real
                Kimi K2 checkpoint below for real answers.
              </p>
            )}
            <ModelFacts m={model} />
            {plan && <PlanView plan={plan} />}
          </>
        ) : <p className="muted">Engine: {engine.state}{engine.error ? ` — ${engine.error}` : ''}</p>}

        <h3>Open a local model</h3>
        <form className="row" onSubmit={(e) => { e.preventDefault(); if (dir.trim()) void inspect(dir.trim()); }}>
          <input className="input grow" data-testid="model-dir-input" placeholder="/path/to/Kimi-K2-Thinking" value={dir} onChange={(e) => setDir(e.target.value)} />
          <button type="submit" className="btn" data-testid="model-inspect" disabled={!dir.trim() || inspecting}>{inspecting ? 'Reading…' : 'Inspect'}</button>
        </form>
        {inspectError && <p className="error-text" data-testid="model-error">{inspectError}</p>}
        {inspection && (
          <div className="inspection" data-testid="model-inspection">
            <ModelFacts m={inspection.model} />
            <PlanView plan={inspection.plan} />
            <button type="button" className="btn primary" data-testid="model-load" disabled={progress !== null}
              onClick={() => void load(inspection.model.dir)}>Load this model</button>
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

function ModelFacts({ m }: { m: ModelSummary }) {
  const rows: Array<[string, string]> = [
    ['Name', m.name],
    ['Architecture', `${m.architecture} (${m.modelType})`],
    ['Parameters', fmtCount(m.nParams)],
    ['Layers', String(m.nLayers)],
    ['Experts', `${m.nExperts} routed, top-${m.topK}${m.nSharedExperts ? ` + ${m.nSharedExperts} shared` : ''}`],
    ['Quantization', m.quantization],
    ['Context', fmtCount(m.contextLength)],
    ['Weights', fmtBytes(m.bytesWeights)],
  ];
  return (
    <dl className="facts" data-testid="model-info">
      {rows.map(([k, v]) => <div key={k}><dt>{k}</dt><dd data-testid={`model-${k.toLowerCase()}`}>{v}</dd></div>)}
    </dl>
  );
}

function PlanView({ plan }: { plan: MemoryPlan }) {
  return (
    <div className="plan" data-testid="memory-plan" data-fits={plan.fits ? 'true' : 'false'}>
      <MemBar label="RAM" need={plan.ramNeededBytes} have={plan.ramAvailableBytes} />
      <MemBar label="VRAM" need={plan.vramNeededBytes} have={plan.vramAvailableBytes} />
      <p className={plan.fits ? 'ok-text' : 'error-text'}>{plan.fits ? 'Fits this machine.' : 'Does not fit this machine.'}{plan.note ? ` ${plan.note}` : ''}</p>
    </div>
  );
}

function MemBar({ label, need, have }: { label: string; need: number; have: number }) {
  const frac = have > 0 ? Math.min(1, need / have) : need > 0 ? 1 : 0;
  return (
    <div className="membar">
      <span className="membar-label">{label}</span>
      <span className={`bar ${need > have ? 'over' : ''}`}><span style={{ width: `${Math.max(1, Math.round(frac * 100))}%` }} /></span>
      <span className="membar-nums">{fmtBytes(need)} of {have > 0 ? fmtBytes(have) : 'none'}</span>
    </div>
  );
}

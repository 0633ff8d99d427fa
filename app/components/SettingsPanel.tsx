// SettingsPanel.tsx — sampling (empty = the model's generation_config default, shown as the
// placeholder), context length, threads, backend, GPU expert memory and the system prompt.
import { useEffect, useState } from 'react';
import type { Sampling } from '../contract.ts';
import { useApp } from '../store/index.ts';

/** The contract's sampler knobs the panel sets (the two OpenAI-style penalties are for API clients). */
type SamplingKey = Exclude<keyof Sampling, 'thinking' | 'presencePenalty' | 'frequencyPenalty'>;
const SAMPLING_FIELDS: Array<{ key: SamplingKey; label: string; id: string; step: number; min: number; max: number; int?: boolean }> = [
  { key: 'temperature', label: 'Temperature', id: 'temperature', step: 0.05, min: 0, max: 5 },
  { key: 'topP', label: 'Top-p', id: 'top-p', step: 0.01, min: 0.01, max: 1 },
  { key: 'topK', label: 'Top-k', id: 'top-k', step: 1, min: 0, max: 100_000, int: true },
  { key: 'minP', label: 'Min-p', id: 'min-p', step: 0.01, min: 0, max: 1 },
  { key: 'repetitionPenalty', label: 'Repetition penalty', id: 'repetition-penalty', step: 0.01, min: 0.5, max: 3 },
  { key: 'maxTokens', label: 'Max new tokens', id: 'max-tokens', step: 16, min: 1, max: 1_000_000, int: true },
  { key: 'seed', label: 'Seed', id: 'seed', step: 1, min: 0, max: 2 ** 32 - 1, int: true },
];

export function SettingsPanel() {
  const view = useApp((s) => s.settingsView);
  const update = useApp((s) => s.updateSettings);
  const close = useApp((s) => s.setPanel);
  const [system, setSystem] = useState(view?.settings.systemPrompt ?? '');
  useEffect(() => { setSystem(view?.settings.systemPrompt ?? ''); }, [view?.settings.systemPrompt]);
  if (!view) return <section className="panel" data-testid="settings-panel"><p className="muted">Loading settings…</p></section>;
  const { settings, modelDefaults } = view;

  const setSampling = (k: SamplingKey, v: number | null) => {
    const next: Sampling = { ...settings.sampling };
    if (v === null) delete next[k]; else next[k] = v;
    void update({ sampling: next });
  };

  return (
    <section className="panel" data-testid="settings-panel" aria-label="Settings">
      <header className="panel-head"><h2>Settings</h2><button type="button" className="icon-btn" onClick={() => close('settings')} aria-label="Close">✕</button></header>
      <div className="panel-body">
        <h3>Sampling</h3>
        <p className="muted small">Empty fields use the model's defaults (from its generation_config.json), shown in grey.</p>
        {SAMPLING_FIELDS.map((f) => (
          <Num key={f.key} label={f.label} id={f.id} value={settings.sampling[f.key] ?? null} placeholder={modelDefaults.sampling[f.key]}
            step={f.step} min={f.min} max={f.max} int={f.int} onChange={(v) => setSampling(f.key, v)} />
        ))}
        <button type="button" className="btn ghost" data-testid="settings-reset-sampling" disabled={Object.keys(settings.sampling).length === 0}
          onClick={() => void update({ sampling: {} })}>Reset to the model's defaults</button>
        <h3>Engine</h3>
        <Num label="Context length" id="context-length" value={settings.contextLength} placeholder={modelDefaults.contextLength}
          step={512} min={256} max={1_048_576} int onChange={(v) => void update({ contextLength: v })} />
        <Num label="Threads (0 = all cores)" id="threads" value={settings.threads} step={1} min={0} max={1024} int
          onChange={(v) => void update({ threads: v ?? 0 })} />
        <label className="field">
          <span>Backend</span>
          <select className="input" data-testid="setting-backend" value={settings.backend}
            onChange={(e) => void update({ backend: e.target.value as typeof settings.backend })}>
            <option value="auto">Automatic (CUDA when a GPU is found)</option>
            <option value="cpu">CPU</option>
            <option value="cuda">CUDA</option>
          </select>
        </label>
        <Num label="GPU memory for hot experts, GiB (0 = automatic)" id="gpu-expert-budget" value={settings.gpuExpertBudgetGiB} step={1} min={0} max={65_536}
          onChange={(v) => void update({ gpuExpertBudgetGiB: v ?? 0 })} />
        <p className="muted small">Context length, threads, backend and GPU memory apply the next time the model loads (a loaded model reloads).</p>
        <h3>System prompt</h3>
        <textarea className="input" data-testid="setting-system-prompt" rows={5} value={system} placeholder="Empty: the chat template's default"
          onChange={(e) => setSystem(e.target.value)} onBlur={() => { if (system !== settings.systemPrompt) void update({ systemPrompt: system }); }} />
      </div>
    </section>
  );
}

export function Num({ label, id, value, placeholder, step, min, max, int, onChange }: {
  label: string; id: string; value: number | null; placeholder?: number; step: number; min: number; max: number; int?: boolean;
  onChange(v: number | null): void;
}) {
  const [text, setText] = useState(value === null ? '' : String(value));
  useEffect(() => { setText(value === null ? '' : String(value)); }, [value]);
  const commit = () => {
    if (text.trim() === '') { if (value !== null) onChange(null); return; }
    const v = Number(text);
    if (Number.isFinite(v) && v >= min && v <= max && (!int || Number.isInteger(v))) { if (v !== value) onChange(v); }
    else setText(value === null ? '' : String(value));
  };
  return (
    <label className="field">
      <span>{label}</span>
      <input className="input num" data-testid={`setting-${id}`} type="number" step={step} min={min} max={max} value={text}
        placeholder={placeholder === undefined ? '' : String(placeholder)}
        onChange={(e) => setText(e.target.value)} onBlur={commit} onKeyDown={(e) => { if (e.key === 'Enter') commit(); }} />
    </label>
  );
}

// SettingsPanel.tsx — sampling (defaults from the model's generation config), context length,
// threads and the system prompt.
import { useEffect, useState } from 'react';
import type { SamplingSettings, Settings } from '../contract.ts';
import { useApp } from '../store/index.ts';

export function SettingsPanel() {
  const settings = useApp((s) => s.settings);
  const update = useApp((s) => s.updateSettings);
  const defaults = useApp((s) => s.model?.generationConfig);
  const close = useApp((s) => s.setPanel);
  const [system, setSystem] = useState(settings?.systemPrompt ?? '');
  useEffect(() => { setSystem(settings?.systemPrompt ?? ''); }, [settings?.systemPrompt]);
  if (!settings) return <section className="panel" data-testid="settings-panel"><p className="muted">Loading settings…</p></section>;

  const samp = (k: keyof SamplingSettings, v: number) => void update({ sampling: { ...settings.sampling, [k]: v } });
  const top = (k: keyof Omit<Settings, 'sampling' | 'systemPrompt'>, v: number) => void update({ [k]: v } as Partial<Settings>);

  return (
    <section className="panel" data-testid="settings-panel" aria-label="Settings">
      <header className="panel-head"><h2>Settings</h2><button type="button" className="icon-btn" onClick={() => close('settings')} aria-label="Close">✕</button></header>
      <div className="panel-body">
        <h3>Sampling</h3>
        <Num label="Temperature" id="temperature" value={settings.sampling.temperature} step={0.05} min={0} max={2} onChange={(v) => samp('temperature', v)} />
        <Num label="Top-p" id="top-p" value={settings.sampling.topP} step={0.01} min={0} max={1} onChange={(v) => samp('topP', v)} />
        <Num label="Top-k" id="top-k" value={settings.sampling.topK} step={1} min={0} max={1000} onChange={(v) => samp('topK', v)} />
        <Num label="Max new tokens" id="max-tokens" value={settings.sampling.maxTokens} step={16} min={1} max={1 << 20} onChange={(v) => samp('maxTokens', v)} />
        <Num label="Repetition penalty" id="repetition-penalty" value={settings.sampling.repetitionPenalty} step={0.01} min={0.5} max={2} onChange={(v) => samp('repetitionPenalty', v)} />
        {defaults && (
          <button type="button" className="btn ghost" data-testid="settings-reset-sampling"
            onClick={() => void update({ sampling: { ...settings.sampling, ...defaults } })}>Reset to the model's defaults</button>
        )}
        <h3>Engine</h3>
        <Num label="Context length" id="context-length" value={settings.contextLength} step={512} min={256} max={1 << 20} onChange={(v) => top('contextLength', v)} />
        <Num label="Threads (0 = all)" id="threads" value={settings.threads} step={1} min={0} max={512} onChange={(v) => top('threads', v)} />
        <h3>System prompt</h3>
        <textarea className="input" data-testid="setting-system-prompt" rows={5} value={system} placeholder="You are Kimi, an AI assistant created by Moonshot AI."
          onChange={(e) => setSystem(e.target.value)} onBlur={() => { if (system !== settings.systemPrompt) void update({ systemPrompt: system }); }} />
      </div>
    </section>
  );
}

function Num({ label, id, value, step, min, max, onChange }: { label: string; id: string; value: number; step: number; min: number; max: number; onChange(v: number): void }) {
  const [text, setText] = useState(String(value));
  useEffect(() => { setText(String(value)); }, [value]);
  const commit = () => { const v = Number(text); if (Number.isFinite(v) && v >= min && v <= max && v !== value) onChange(v); else setText(String(value)); };
  return (
    <label className="field">
      <span>{label}</span>
      <input className="input num" data-testid={`setting-${id}`} type="number" step={step} min={min} max={max} value={text}
        onChange={(e) => setText(e.target.value)} onBlur={commit} onKeyDown={(e) => { if (e.key === 'Enter') commit(); }} />
    </label>
  );
}

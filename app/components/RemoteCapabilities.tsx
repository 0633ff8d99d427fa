// RemoteCapabilities.tsx — what a remote engine supports, set when it is added: tool calling
// (vLLM/SGLang need --tool-call-parser), where its reasoning arrives (reasoning_content from the
// vLLM/SGLang reasoning parsers, reasoning from newer vLLM and Ollama, or either), its context
// length (blank: as the server reports it), whether it reports token counts, and whether it takes
// vLLM/SGLang's extra sampling fields. What is switched off is then said in the app, not failed.
import type { ProviderCapabilities, ReasoningField } from '../contract.ts';

/** The form's state: maxContext '' leaves the server's own figure in charge. */
export type CapabilitiesDraft = Omit<ProviderCapabilities, 'maxContext' | 'prefixCache'> & { maxContext: string };

export const DEFAULT_DRAFT: CapabilitiesDraft = { tools: true, reasoningField: 'auto', maxContext: '', tokenCounts: true, extraSampling: true };

/** The capabilities the core is sent (an empty or invalid context length is left out). */
export function capabilitiesOf(d: CapabilitiesDraft): Partial<ProviderCapabilities> {
  const ctx = Number(d.maxContext);
  const { maxContext: _m, ...rest } = d;
  return { ...rest, ...(d.maxContext.trim() && Number.isInteger(ctx) && ctx > 0 ? { maxContext: ctx } : {}) };
}

const FIELDS: { value: ReasoningField; label: string }[] = [
  { value: 'auto', label: 'either field' },
  { value: 'reasoning_content', label: 'reasoning_content (vLLM / SGLang parsers)' },
  { value: 'reasoning', label: 'reasoning (newer vLLM, Ollama)' },
];

export function RemoteCapabilities({ draft, onChange }: { draft: CapabilitiesDraft; onChange(d: CapabilitiesDraft): void }) {
  const put = <K extends keyof CapabilitiesDraft>(k: K, v: CapabilitiesDraft[K]) => onChange({ ...draft, [k]: v });
  return (
    <details className="remote-caps-form" data-testid="remote-caps-form">
      <summary className="small">What this server supports</summary>
      <label className="small"><input type="checkbox" data-testid="cap-tools" checked={draft.tools} onChange={(e) => put('tools', e.target.checked)} /> Tool calling</label>
      <label className="small">Reasoning arrives in{' '}
        <select className="input small" data-testid="cap-reasoning" value={draft.reasoningField} onChange={(e) => put('reasoningField', e.target.value as ReasoningField)}>
          {FIELDS.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
        </select>
      </label>
      <label className="small">Context length{' '}
        <input className="input num small" data-testid="cap-context" inputMode="numeric" placeholder="as reported" value={draft.maxContext} onChange={(e) => put('maxContext', e.target.value)} />
      </label>
      <label className="small"><input type="checkbox" data-testid="cap-token-counts" checked={draft.tokenCounts} onChange={(e) => put('tokenCounts', e.target.checked)} /> Reports token counts</label>
      <label className="small"><input type="checkbox" data-testid="cap-extra-sampling" checked={draft.extraSampling} onChange={(e) => put('extraSampling', e.target.checked)} /> Takes top_k, min_p, repetition_penalty</label>
    </details>
  );
}

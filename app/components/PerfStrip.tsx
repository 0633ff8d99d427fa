// PerfStrip.tsx — prompt-processing progress, time to first token, tokens/s and context used.
import { fmtCount, fmtMs, fmtRate } from '../format.ts';
import { useApp } from '../store/index.ts';

export function PerfStrip() {
  const done = useApp((s) => s.perf.promptDone);
  const total = useApp((s) => s.perf.promptTotal);
  const cached = useApp((s) => s.perf.cachedTokens);
  const ttft = useApp((s) => s.perf.ttftMs);
  const tps = useApp((s) => s.perf.tokensPerSecond);
  const used = useApp((s) => s.perf.contextUsed);
  const max = useApp((s) => s.perf.contextLength ?? s.settingsView?.settings.contextLength ?? s.settingsView?.modelDefaults.contextLength ?? null);
  const generating = useApp((s) => s.generation !== null);
  const prefilling = useApp((s) => s.generation !== null && s.generation.firstTokenAt === null);
  const prefill = done !== null && total ? Math.min(1, done / total) : null;
  const ctxFrac = used !== null && max ? Math.min(1, used / max) : null;
  return (
    <div className="perf-strip" data-testid="perf-strip" data-generating={generating ? 'true' : 'false'}>
      <Stat label="Prompt" testid="perf-prefill" value={prefill === null ? '—' : `${fmtCount(done)} tok · ${Math.round(prefill * 100)}%`}
        bar={prefill} active={prefilling} />
      <Stat label="Cached" testid="perf-cached" exact={cached === null || total === null ? undefined : { cached, prompt: total }}
        value={cached === null || total === null ? '—' : `${fmtCount(cached)} cached · ${fmtCount(Math.max(0, total - cached))} new`} />
      <Stat label="TTFT" testid="perf-ttft" value={fmtMs(ttft)} />
      <Stat label="Speed" testid="perf-tps" value={tps ? fmtRate(tps) : '—'} />
      <Stat label="Context" testid="perf-context" value={used === null ? '—' : `${fmtCount(used)} / ${fmtCount(max)}`} bar={ctxFrac} />
    </div>
  );
}

function Stat({ label, value, testid, bar, active, exact }: { label: string; value: string; testid: string; bar?: number | null; active?: boolean; exact?: { cached: number; prompt: number } }) {
  // The exact figures ride along as attributes (the text is rounded for reading).
  return (
    <div className={`stat ${active ? 'active' : ''}`} data-testid={testid} data-cached={exact?.cached} data-prompt={exact?.prompt}>
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {bar !== undefined && bar !== null && <span className="stat-bar"><span style={{ width: `${Math.round(bar * 100)}%` }} /></span>}
    </div>
  );
}

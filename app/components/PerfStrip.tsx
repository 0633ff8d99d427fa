// PerfStrip.tsx — prompt-processing progress, time to first token, tokens/s and context used.
import { fmtCount, fmtMs, fmtRate } from '../format.ts';
import { useApp } from '../store/index.ts';

/** What a stat says when the remote engine that answered did not report its figure. */
export const NOT_REPORTED = 'remote: not reported';

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
  const notReported = useApp((s) => s.perf.notReported);
  const prefill = done !== null && total ? Math.min(1, done / total) : null;
  const ctxFrac = used !== null && max ? Math.min(1, used / max) : null;
  // A remote that did not report a figure: say so rather than show a 0 nobody measured.
  const noPrompt = notReported.includes('prompt');
  const noCached = notReported.includes('cached');
  return (
    <div className="perf-strip" data-testid="perf-strip" data-generating={generating ? 'true' : 'false'}>
      <Stat label="Prompt" testid="perf-prefill" unreported={noPrompt} value={noPrompt ? NOT_REPORTED : prefill === null ? '—' : `${fmtCount(done)} tok · ${Math.round(prefill * 100)}%`}
        bar={noPrompt ? null : prefill} active={prefilling} />
      <Stat label="Cached" testid="perf-cached" unreported={noCached} exact={noCached || noPrompt || cached === null || total === null ? undefined : { cached, prompt: total }}
        value={noCached ? NOT_REPORTED : cached === null || total === null ? '—' : noPrompt ? `${fmtCount(cached)} cached` : `${fmtCount(cached)} cached · ${fmtCount(Math.max(0, total - cached))} new`} />
      <Stat label="TTFT" testid="perf-ttft" value={fmtMs(ttft)} />
      <Stat label="Speed" testid="perf-tps" value={tps ? fmtRate(tps) : '—'} />
      <Stat label="Context" testid="perf-context" unreported={noPrompt} value={noPrompt ? NOT_REPORTED : used === null ? '—' : `${fmtCount(used)} / ${fmtCount(max)}`} bar={noPrompt ? null : ctxFrac} />
    </div>
  );
}

function Stat({ label, value, testid, bar, active, exact, unreported }: { label: string; value: string; testid: string; bar?: number | null; active?: boolean; exact?: { cached: number; prompt: number }; unreported?: boolean }) {
  // The exact figures ride along as attributes (the text is rounded for reading).
  return (
    <div className={`stat ${active ? 'active' : ''}`} data-testid={testid} data-cached={exact?.cached} data-prompt={exact?.prompt}
      data-reported={unreported ? 'false' : undefined}>
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {bar !== undefined && bar !== null && <span className="stat-bar"><span style={{ width: `${Math.round(bar * 100)}%` }} /></span>}
    </div>
  );
}

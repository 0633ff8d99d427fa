// ReadingProgress.tsx — while a long prompt is read (prefill): tokens read of the total, the
// reading speed so far, the time left at that speed, and Cancel. Events arrive after each
// prefill chunk, so the UI stays responsive throughout.
import { fmtCount, fmtRate } from '../format.ts';
import { useApp } from '../store/index.ts';

/** Below this many prompt tokens reading is too quick to be worth a bar. */
const MIN_TOKENS_FOR_BAR = 256;

export function ReadingProgress() {
  const reading = useApp((s) => s.generation !== null && s.generation.firstTokenAt === null);
  const done = useApp((s) => s.perf.promptDone);
  const total = useApp((s) => s.perf.promptTotal);
  const startedAt = useApp((s) => s.generation?.startedAt ?? null);
  const progressAt = useApp((s) => s.generation?.promptProgressAt ?? null);
  const stop = useApp((s) => s.stop);
  if (!reading || done === null || !total || total < MIN_TOKENS_FOR_BAR || startedAt === null || progressAt === null) return null;
  const secs = Math.max(1e-3, (progressAt - startedAt) / 1000);
  const rate = done / secs;
  const left = rate > 0 ? (total - done) / rate : null;
  const frac = Math.min(1, done / total);
  return (
    <div className="reading-progress" data-testid="reading-progress" role="progressbar" aria-valuemin={0} aria-valuemax={total} aria-valuenow={done}
      data-done={done} data-total={total} data-rate={Math.round(rate)} data-left={left !== null && done < total ? Math.ceil(left) : undefined}>
      <span className="reading-label">Reading the prompt: {fmtCount(done)} / {fmtCount(total)} tokens</span>
      <span className="reading-bar"><span style={{ width: `${Math.round(frac * 100)}%` }} /></span>
      <span className="reading-rate" data-testid="reading-rate">{fmtRate(rate)}{left !== null && done < total ? ` · ${Math.ceil(left)} s left` : ''}</span>
      <button type="button" className="btn small" data-testid="reading-cancel" onClick={() => void stop()}>Cancel</button>
    </div>
  );
}

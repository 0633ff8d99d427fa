// ExpertHeatMap.tsx — the model panel's expert heat map: one row per MoE layer, one cell per
// routed expert, shaded by how often the router picks it (decayed counts, relative to the
// busiest expert), GPU-resident experts outlined. Only the CUDA backend records routing.
import { useApp } from '../store/index.ts';

export function ExpertHeatMap() {
  const ready = useApp((s) => s.engine.state === 'ready');
  const heat = useApp((s) => s.expertHeat);
  const load = useApp((s) => s.loadExpertHeat);
  if (!ready) return null;
  const max = Math.max(0, ...(heat?.layers.flatMap((l) => l.counts) ?? []));
  const resident = heat?.layers.reduce((n, l) => n + l.onGpu.filter(Boolean).length, 0) ?? 0;
  const experts = heat?.layers.reduce((n, l) => n + l.counts.length, 0) ?? 0;
  // The hot-expert share: of the (decayed) routing decisions, those that went to GPU-resident experts.
  const total = heat?.layers.reduce((n, l) => n + l.counts.reduce((a, c) => a + c, 0), 0) ?? 0;
  const onGpu = heat?.layers.reduce((n, l) => n + l.counts.reduce((a, c, e) => a + (l.onGpu[e] ? c : 0), 0), 0) ?? 0;
  return (
    <div className="expert-heat" data-testid="expert-heat">
      <h3>Expert heat map</h3>
      <button type="button" className="btn ghost" data-testid="expert-heat-refresh" onClick={() => void load()}>
        {heat ? 'Refresh' : 'Show'}
      </button>
      {heat && heat.layers.length === 0 && (
        <p className="muted small" data-testid="expert-heat-empty">
          No routing statistics: {heat.backend === 'cuda' ? 'no MoE layer has run yet' : 'the CPU backend does not record them (the CUDA backend does)'}.
        </p>
      )}
      {heat && heat.layers.length > 0 && (
        <>
          <p className="muted small" data-testid="expert-heat-summary">
            {heat.layers.length} MoE layers × {heat.layers[0].counts.length} experts; {resident} of {experts} on the GPU (outlined)
            {total > 0 ? `, serving ${Math.round((100 * onGpu) / total)}% of routing decisions` : ''}.
          </p>
          <div className="heat-grid" role="img" aria-label="Routing counts per layer and expert">
            {heat.layers.map((l, li) => (
              <div className="heat-row" key={li} data-testid="expert-heat-row">
                {l.counts.map((c, e) => (
                  <span key={e} className={`heat-cell${l.onGpu[e] ? ' gpu' : ''}`} data-gpu={l.onGpu[e] ? '1' : '0'}
                    title={`layer ${li}, expert ${e}: ${c.toFixed(1)}${l.onGpu[e] ? ' (GPU)' : ''}`}
                    style={{ opacity: max > 0 ? 0.15 + 0.85 * (c / max) : 0.15 }} />
                ))}
              </div>
            ))}
          </div>
        </>
      )}
    </div>
  );
}

// Banners.tsx — the engine-crash banner (offers Restart), the reconnecting notice and errors.
import { useApp } from '../store/index.ts';

export function CrashBanner() {
  const state = useApp((s) => s.engine.state);
  const error = useApp((s) => s.engine.error);
  const restart = useApp((s) => s.restartEngine);
  if (state !== 'crashed' && state !== 'restarting' && state !== 'error') return null;
  return (
    <div className={`banner ${state !== 'restarting' ? 'danger' : 'info'}`} data-testid="crash-banner" data-state={state} role="alert">
      {state !== 'restarting' ? (
        <>
          <span><strong>The engine stopped.</strong> {error ? <span className="muted">({error})</span> : null} Your conversations are safe; the answer in progress was interrupted.</span>
          <button type="button" className="btn primary" data-testid="restart-engine" onClick={() => void restart()}>Restart engine</button>
        </>
      ) : (
        <span><span className="spinner" aria-hidden /> Restarting the engine…</span>
      )}
    </div>
  );
}

export function ConnectionBanner() {
  const c = useApp((s) => s.connected);
  if (c !== false) return null;
  return <div className="banner warn" data-testid="connection-banner">Lost the connection to Karakoram — reconnecting…</div>;
}

export function ErrorBanner() {
  const error = useApp((s) => s.error);
  const clear = useApp((s) => s.clearError);
  if (!error) return null;
  return (
    <div className="banner warn" data-testid="error-banner">
      <span>{error}</span>
      <button type="button" className="icon-btn" onClick={clear} aria-label="Dismiss">✕</button>
    </div>
  );
}

export function Toast() {
  const toast = useApp((s) => s.toast);
  const show = useApp((s) => s.showToast);
  if (!toast) return null;
  return (
    <div className="toast" data-testid="toast" role="status" onClick={() => show(null)}>{toast}</div>
  );
}

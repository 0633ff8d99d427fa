// Banners.tsx — the engine-crash banner (offers Restart), the reconnecting notice and errors.
import { useApp } from '../store/index.ts';

export function CrashBanner() {
  const state = useApp((s) => s.engine.state);
  const error = useApp((s) => s.engine.error);
  const notice = useApp((s) => s.crashNotice);
  const restart = useApp((s) => s.restartEngine);
  const dismiss = useApp((s) => s.dismissCrashNotice);
  if (state === 'restarting') {
    return (
      <div className="banner info" data-testid="crash-banner" data-state="restarting" role="status">
        <span><span className="spinner" aria-hidden /> Restarting the engine…</span>
      </div>
    );
  }
  if (state === 'crashed' || state === 'error') {
    return (
      <div className="banner danger" data-testid="crash-banner" data-state={state} role="alert">
        {state === 'error' ? (
          <span><strong>The engine could not start.</strong> {error ? <span className="muted">{error}</span> : null}</span>
        ) : (
          <span><strong>The engine stopped.</strong> {error ? <span className="muted">({error})</span> : null} Your conversations are safe; an answer in progress was interrupted.</span>
        )}
        <button type="button" className="btn primary" data-testid="restart-engine" onClick={() => void restart()}>Restart engine</button>
      </div>
    );
  }
  if (notice && (state === 'ready' || state === 'loading')) {
    return (
      <div className="banner info" data-testid="crash-banner" data-state="recovered" role="status">
        <span><strong>{state === 'ready' ? 'The engine stopped unexpectedly and was restarted.' : 'The engine stopped unexpectedly and is restarting…'}</strong> {notice.error ? <span className="muted">({notice.error})</span> : null} An interrupted answer keeps its text; regenerate it to try again.</span>
        <button type="button" className="icon-btn" data-testid="dismiss-crash" onClick={dismiss} aria-label="Dismiss">✕</button>
      </div>
    );
  }
  return null;
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

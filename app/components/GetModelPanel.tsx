// GetModelPanel.tsx — the way from the demo to a real model: Kimi K2 Thinking's size (worked out
// from its config before any download), the command that downloads it, the memory plan for this
// machine and the free disk space, then where to open it once it is there.
import { useEffect, useState } from 'react';
import { fmtBytes, fmtCount } from '../format.ts';
import { useApp } from '../store/index.ts';
import { PlanView } from './ModelPanel.tsx';

const COPIED_MS = 1200;

export function GetModelPanel() {
  const starter = useApp((s) => s.starter);
  const error = useApp((s) => s.starterError);
  const loadStarter = useApp((s) => s.loadStarter);
  const setPanel = useApp((s) => s.setPanel);
  const [copied, setCopied] = useState(false);
  useEffect(() => { void loadStarter(); }, [loadStarter]);

  const diskShort = starter && starter.diskFreeBytes !== null && starter.diskFreeBytes < starter.downloadBytes;
  return (
    <section className="panel" data-testid="get-model-panel" aria-label="Get Kimi K2">
      <header className="panel-head"><h2>Get Kimi K2</h2><button type="button" className="icon-btn" onClick={() => setPanel('get-model')} aria-label="Close">✕</button></header>
      <div className="panel-body">
        {error && <p className="error-text" data-testid="get-model-error">{error}</p>}
        {!starter && !error && <p className="muted">Working out what it needs…</p>}
        {starter && (
          <>
            <p>
              <strong>{starter.label}</strong> ({starter.repo}): {fmtCount(starter.params)} parameters, a mixture of experts
              that thinks and calls tools. It is published with INT4 experts and runs here from that checkpoint.
            </p>
            <dl className="facts">
              <div><dt>Download</dt><dd data-testid="get-model-size">{fmtBytes(starter.downloadBytes)}</dd></div>
              <div><dt>Goes to</dt><dd className="mono">{starter.modelsDir}</dd></div>
              <div><dt>Free there</dt><dd data-testid="get-model-disk" className={diskShort ? 'error-text' : undefined}>
                {starter.diskFreeBytes === null ? 'unknown' : fmtBytes(starter.diskFreeBytes)}{diskShort ? ' — not enough' : ''}</dd></div>
            </dl>
            <h3>1. Download it</h3>
            <p className="muted small">In a terminal (it resumes where it stopped and checks every file's sha256):</p>
            <div className="command-row">
              <code className="command" data-testid="pull-command">{starter.pullCommand}</code>
              <button type="button" className="btn" data-testid="copy-pull-command"
                onClick={() => { void navigator.clipboard?.writeText(starter.pullCommand).catch(() => undefined); setCopied(true); setTimeout(() => setCopied(false), COPIED_MS); }}>
                {copied ? '✓ Copied' : 'Copy'}</button>
            </div>
            <h3>2. Will it run here?</h3>
            <PlanView plan={starter.plan} />
            <h3>3. Open it</h3>
            <p className="muted small">Or download it from the Models page (pause, resume, verify), where it is listed with Load once complete.</p>
            <button type="button" className="btn" data-testid="open-models-page" onClick={() => setPanel('models')}>Open the Models page</button>
            <button type="button" className="btn" data-testid="open-model-panel" onClick={() => setPanel('model')}>Open the model panel</button>
          </>
        )}
      </div>
    </section>
  );
}

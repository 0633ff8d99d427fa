// ModelsPanel.tsx — the Models page: search the hub, open a repository (its files, the variants
// the library offers, and the fit plan for this machine before anything is downloaded), the
// downloads with progress bars, speed and ETA (pause / resume / cancel / verify / delete), and
// the models on disk, each loadable once complete. The hub token is set here; it stays in the core.
import { useEffect, useState, type FormEvent } from 'react';
import type { DownloadView, FitPlanView, LibraryModelView } from '../contract.ts';
import { fmtBytes, fmtMs } from '../format.ts';
import { useApp } from '../store/index.ts';

export function ModelsPanel() {
  const close = useApp((s) => s.setPanel);
  const load = useApp((s) => s.loadModelsPage);
  const error = useApp((s) => s.libraryError);
  useEffect(() => { void load(); }, [load]);
  return (
    <section className="panel models-panel" data-testid="models-panel" aria-label="Models">
      <header className="panel-head"><h2>Models</h2><button type="button" className="icon-btn" onClick={() => close('models')} aria-label="Close">✕</button></header>
      <div className="panel-body">
        {error && <p className="error-text" data-testid="models-error">{error}</p>}
        <Search />
        <Repo />
        <Downloads />
        <Library />
        <HubAccess />
      </div>
    </section>
  );
}

function Search() {
  const search = useApp((s) => s.searchHub);
  const hits = useApp((s) => s.hubHits);
  const searching = useApp((s) => s.hubSearching);
  const open = useApp((s) => s.openRepo);
  const endpoint = useApp((s) => s.library?.endpoint ?? '');
  const [q, setQ] = useState('Kimi-K2');
  const submit = (e: FormEvent) => { e.preventDefault(); void search(q); };
  return (
    <>
      <h3>Find a model</h3>
      <form className="row" onSubmit={submit}>
        <input className="input" data-testid="hub-query" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Search the hub" aria-label="Search the hub" />
        <button type="submit" className="btn" data-testid="hub-search" disabled={searching}>{searching ? 'Searching…' : 'Search'}</button>
      </form>
      <p className="muted small">On <span className="mono">{endpoint}</span></p>
      {hits && hits.length === 0 && <p className="muted small" data-testid="hub-no-hits">Nothing found.</p>}
      <ul className="plain-list">
        {hits?.map((h) => (
          <li key={h.repo} data-testid="hub-hit" data-repo={h.repo}>
            <button type="button" className="link-btn" onClick={() => void open(h.repo)}>{h.repo}</button>
            {h.catalogName && <span className="chip small">{h.catalogName}</span>}
            {h.gated && <span className="muted small"> gated</span>}
            <span className="muted small"> · {h.downloads} downloads</span>
          </li>
        ))}
      </ul>
    </>
  );
}

function Repo() {
  const view = useApp((s) => s.repoView);
  const loading = useApp((s) => s.repoLoading);
  const start = useApp((s) => s.startDownload);
  const open = useApp((s) => s.openRepo);
  const closeRepo = useApp((s) => s.closeRepo);
  if (loading) return <p className="muted" data-testid="repo-loading">Reading the repository…</p>;
  if (!view) return null;
  return (
    <div className="repo-view" data-testid="repo-view" data-repo={view.repo}>
      <h3>{view.repo} <button type="button" className="icon-btn small" onClick={closeRepo} aria-label="Close the repository">✕</button></h3>
      <p className="small">{view.architecture} · {view.quantization} · <b data-testid="repo-size">{fmtBytes(view.totalBytes)}</b> in {view.files.length} files</p>
      {view.convertAfterDownload && <p className="small">Block-FP8: after the download, convert it to INT4 once with <span className="mono">kk_convert</span> and load the converted copy.</p>}
      {view.plan ? <FitPlan plan={view.plan} /> : <p className="error-text small" data-testid="plan-error">No fit plan: {view.planError}</p>}
      <button type="button" className="btn primary" data-testid="download-repo" onClick={() => void start(view.repo)}>Download {fmtBytes(view.totalBytes)}</button>
      <details className="small">
        <summary>Files</summary>
        <ul className="plain-list mono small" data-testid="repo-files">
          {view.files.map((f) => <li key={f.path}>{f.path} <span className="muted">{fmtBytes(f.size)}</span></li>)}
        </ul>
      </details>
      <details className="small">
        <summary>Variants</summary>
        <ul className="plain-list small">
          {view.variants.map((v) => (
            <li key={v.repo}><button type="button" className="link-btn" onClick={() => void open(v.repo)}>{v.name}</button> <span className="muted">{v.summary}</span></li>
          ))}
        </ul>
      </details>
    </div>
  );
}

function FitPlan({ plan }: { plan: FitPlanView }) {
  return (
    <div className="fit-plan" data-testid="fit-plan" data-fits={String(plan.fits)}>
      <p><b data-testid="fit-verdict">{plan.fits ? 'Fits this machine' : 'Does not fit this machine'}</b>
        <span className="muted small"> at {plan.context} tokens of context</span></p>
      <dl className="facts small">
        <div><dt>On the GPU</dt><dd data-testid="fit-gpu">{fmtBytes(plan.gpuResidentBytes)} ({plan.hotExperts} of {plan.totalExperts} experts)</dd></div>
        <div><dt>Experts in RAM</dt><dd>{fmtBytes(plan.cpuExpertBytes)}</dd></div>
        <div><dt>RAM needed</dt><dd data-testid="fit-ram">{fmtBytes(plan.ramNeededBytes)} of {fmtBytes(plan.machine.ramBytes)}</dd></div>
        <div><dt>KV cache</dt><dd>{fmtBytes(plan.kvBytes)}</dd></div>
        <div><dt>Disk free</dt><dd>{fmtBytes(plan.machine.diskFreeBytes)}</dd></div>
        <div><dt>Decode (estimate)</dt><dd data-testid="fit-speed">{plan.expectedDecodeTokS.toFixed(plan.expectedDecodeTokS >= 100 ? 0 : 1)} tok/s</dd></div>
      </dl>
      <ul className="plain-list muted small">{plan.notes.map((n) => <li key={n}>{n}</li>)}</ul>
    </div>
  );
}

function Downloads() {
  const downloads = useApp((s) => s.downloads);
  if (!downloads.length) return null;
  return (
    <>
      <h3>Downloads</h3>
      <ul className="plain-list">{downloads.map((d) => <DownloadRow key={d.id} d={d} />)}</ul>
    </>
  );
}

const ACTIVE = new Set(['running', 'queued']);

function DownloadRow({ d }: { d: DownloadView }) {
  const act = useApp((s) => s.downloadAction);
  const loadModel = useApp((s) => s.loadModel);
  const frac = d.totalBytes > 0 ? d.doneBytes / d.totalBytes : 0;
  return (
    <li className="download" data-testid="download-row" data-repo={d.repo} data-state={d.state} data-done={d.doneBytes} data-total={d.totalBytes}>
      <div className="row"><b>{d.repo}</b><span className="muted small" data-testid="download-state">{d.state}</span></div>
      <span className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(frac * 100)}><span style={{ width: `${(frac * 100).toFixed(1)}%` }} /></span>
      <div className="small muted" data-testid="download-figures">
        {fmtBytes(d.doneBytes)} of {fmtBytes(d.totalBytes)} ({(frac * 100).toFixed(0)} %)
        {d.state === 'running' && <> · {fmtBytes(d.bytesPerSecond)}/s · {d.etaSeconds === null ? '—' : `${fmtMs(d.etaSeconds * 1000)} left`}</>}
      </div>
      {d.error && <p className="error-text small" data-testid="download-error">{d.error}</p>}
      <div className="row">
        {ACTIVE.has(d.state) && <button type="button" className="btn small" data-testid="download-pause" onClick={() => void act(d.id, 'pause')}>Pause</button>}
        {(d.state === 'paused' || d.state === 'error' || d.state === 'cancelled') && <button type="button" className="btn small" data-testid="download-resume" onClick={() => void act(d.id, 'resume')}>Resume</button>}
        {d.state !== 'done' && d.state !== 'cancelled' && <button type="button" className="btn small" data-testid="download-cancel" onClick={() => void act(d.id, 'cancel')}>Cancel</button>}
        {d.state === 'done' && <button type="button" className="btn small" data-testid="download-verify" onClick={() => void act(d.id, 'verify')}>Verify</button>}
        {d.state === 'done' && d.dir && <button type="button" className="btn small primary" data-testid="download-load" onClick={() => void loadModel(d.dir!)}>Load</button>}
        <button type="button" className="btn small danger" data-testid="download-delete" onClick={() => { if (window.confirm(`Delete ${d.repo} from disk?`)) void act(d.id, 'delete'); }}>Delete</button>
      </div>
    </li>
  );
}

function Library() {
  const models = useApp((s) => s.library?.models ?? null);
  const cacheDir = useApp((s) => s.library?.cacheDir ?? '');
  if (!models) return null;
  return (
    <>
      <h3>On this machine</h3>
      <p className="muted small">Hub cache: <span className="mono">{cacheDir}</span></p>
      {models.length === 0 && <p className="muted small">No models downloaded yet.</p>}
      <ul className="plain-list">{models.map((m) => <LibraryRow key={m.dir} m={m} />)}</ul>
      <Folders />
    </>
  );
}

/** Other folders with models in them (a model folder itself, or a folder of model folders). */
function Folders() {
  const folders = useApp((s) => s.library?.folders ?? []);
  const setFolders = useApp((s) => s.setLibraryFolders);
  const [dir, setDir] = useState('');
  return (
    <>
      <ul className="plain-list small" data-testid="library-folders">
        {folders.map((f) => (
          <li key={f}><span className="mono">{f}</span> <button type="button" className="btn small" onClick={() => void setFolders(folders.filter((x) => x !== f))}>Remove</button></li>
        ))}
      </ul>
      <form className="row" onSubmit={(e) => { e.preventDefault(); if (dir.trim()) void setFolders([...folders, dir.trim()]); setDir(''); }}>
        <input className="input" data-testid="library-folder-input" value={dir} onChange={(e) => setDir(e.target.value)} placeholder="/path/to/models" aria-label="Add a folder" />
        <button type="submit" className="btn small" data-testid="library-folder-add">Add folder</button>
      </form>
    </>
  );
}

function LibraryRow({ m }: { m: LibraryModelView }) {
  const loadModel = useApp((s) => s.loadModel);
  const convert = useApp((s) => s.convertModel);
  const conv = useApp((s) => s.conversions[m.dir] ?? null);
  return (
    <li data-testid="library-model" data-repo={m.repo ?? ''} data-dir={m.dir} data-source={m.source} data-complete={String(m.complete)}>
      <b>{m.repo ?? m.dir}</b> <span className="muted small">{m.architecture} · {m.quantization} · {fmtBytes(m.sizeOnDiskBytes)}</span>
      {m.complete ? (m.loaded ? <span className="chip small">loaded</span>
        : <button type="button" className="btn small" data-testid="library-load" onClick={() => void loadModel(m.dir)}>Load</button>)
        : <span className="error-text small"> incomplete: {m.missing.join(', ')}</span>}
      {m.complete && m.quantization === 'fp8' && (conv?.state === 'running'
        ? <span className="small muted" data-testid="convert-progress"> converting: {conv.stage} {(conv.fraction * 100).toFixed(0)} %</span>
        : <button type="button" className="btn small" data-testid="library-convert" title="Block-FP8: convert the experts to INT4 once (kk_convert), so each load does not"
          onClick={() => void convert(m.dir)}>Convert to INT4</button>)}
      {conv?.state === 'error' && <span className="error-text small"> {conv.error}</span>}
    </li>
  );
}

function HubAccess() {
  const tokenSet = useApp((s) => s.library?.tokenSet ?? false);
  const setToken = useApp((s) => s.setHubToken);
  const limit = useApp((s) => s.settingsView?.settings.downloadLimitMBps ?? 0);
  const update = useApp((s) => s.updateSettings);
  const [token, setT] = useState('');
  return (
    <>
      <h3>Hub access</h3>
      <p className="muted small">Gated repositories need a Hugging Face token (HF_TOKEN). {tokenSet ? 'A token is set.' : 'No token is set.'}</p>
      <form className="row" onSubmit={(e) => { e.preventDefault(); void setToken(token.trim() || null); setT(''); }}>
        <input className="input" type="password" data-testid="hub-token" value={token} onChange={(e) => setT(e.target.value)} placeholder="hf_…" aria-label="Hugging Face token" />
        <button type="submit" className="btn small">{token.trim() ? 'Save' : 'Remove'}</button>
      </form>
      <label className="small">Bandwidth limit (MB/s, 0 = none){' '}
        <input className="input small" type="number" min={0} step={1} data-testid="download-limit" defaultValue={limit}
          onBlur={(e) => { const v = Number(e.target.value); if (Number.isFinite(v) && v >= 0) void update({ downloadLimitMBps: v }); }} />
      </label>
    </>
  );
}

// download-service.ts — the model library's downloads in the core: several repos at once into the
// hub cache (each a pullModel with its own connections, all under one bandwidth limit), each
// paused, resumed, cancelled, verified or deleted on its own, with progress, speed and ETA
// published as 'downloads' events. Rows in the database (download-store.ts) carry the state, so a
// download that was running when the app stopped resumes when it starts again; the bytes
// themselves resume from the .part files and their range bookkeeping.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DownloadView, VerifyResult } from '../../common/library.ts';
import { ContractError } from '../../common/contract.ts';
import { pullModel } from '../models/download.ts';
import { cacheRepo } from '../models/hf-cache.ts';
import { Throttle } from '../models/throttle.ts';
import { verifySnapshot } from '../models/verify-snapshot.ts';
import type { DownloadRow, DownloadStore } from '../store/download-store.ts';
import type { EventBus } from './events.ts';

/** Progress events at most this often per download (the bars move smoothly, the socket stays quiet). */
const EMIT_MS = 250;
/** Progress written to the database at most this often (the .part bookkeeping is what resumes). */
const PERSIST_MS = 2000;
/** Speed is measured over this window. */
const SPEED_WINDOW_MS = 5000;

export interface HubAccessNow { endpoint: string; token?: string }

type Intent = 'pause' | 'cancel' | 'shutdown';

interface Running {
  ctrl: AbortController;
  intent: Intent | null;
  done: Promise<void>;
  samples: Array<[number, number]>;   // (ms, bytes) for the speed
  lastEmit: number;
  lastPersist: number;
}

export class DownloadService {
  private readonly running = new Map<string, Running>();
  private readonly live = new Map<string, { doneBytes: number; totalBytes: number; dir: string | null }>();
  readonly throttle: Throttle;

  constructor(private readonly store: DownloadStore, private readonly bus: EventBus, readonly cacheDir: string,
    private readonly access: () => HubAccessNow, limitBytesPerSecond: number) {
    this.throttle = new Throttle(limitBytesPerSecond);
  }

  setLimit(bytesPerSecond: number): void { this.throttle.setRate(bytesPerSecond); }

  list(): DownloadView[] { return this.store.list().map((r) => this.view(r)); }

  private row(id: string): DownloadRow {
    const r = this.store.get(id);
    if (!r) throw new ContractError('not_found', `no download ${id}`);
    return r;
  }

  private view(r: DownloadRow): DownloadView {
    const live = this.live.get(r.id);
    const run = this.running.get(r.id);
    const doneBytes = live?.doneBytes ?? r.doneBytes;
    const totalBytes = live?.totalBytes ?? r.totalBytes;
    let bytesPerSecond = 0;
    if (run && run.samples.length > 1) {
      const [t0, b0] = run.samples[0];
      const [t1, b1] = run.samples[run.samples.length - 1];
      bytesPerSecond = t1 > t0 ? Math.max(0, ((b1 - b0) / (t1 - t0)) * 1000) : 0;
    }
    const etaSeconds = run && bytesPerSecond > 0 && totalBytes > 0 ? Math.max(0, (totalBytes - doneBytes) / bytesPerSecond) : null;
    return {
      id: r.id, repo: r.repo, revision: r.revision, state: r.state, doneBytes, totalBytes, bytesPerSecond, etaSeconds,
      dir: live?.dir ?? r.dir, error: r.error, createdAt: r.createdAt, updatedAt: r.updatedAt,
    };
  }

  private emit(): void { this.bus.emit('downloads', this.list()); }

  /** Starts repo@revision, or resumes the download of it that exists (one per repo and revision). */
  start(repo: string, revision = 'main'): DownloadView {
    const existing = this.store.find(repo, revision);
    if (existing) {
      // A finished one whose files were removed meanwhile (by another tool, by hand) is fetched again.
      const gone = existing.state === 'done' && (!existing.dir || !existsSync(join(existing.dir, 'config.json')));
      if (!this.running.has(existing.id) && (existing.state !== 'done' || gone)) this.run(existing.id);
      return this.view(this.row(existing.id));
    }
    const now = Date.now();
    const id = randomUUID();
    this.store.insert({ id, repo, revision, endpoint: this.access().endpoint, state: 'queued', doneBytes: 0, totalBytes: 0, dir: null, error: null, createdAt: now, updatedAt: now });
    this.run(id);
    return this.view(this.row(id));
  }

  resume(id: string): DownloadView {
    const r = this.row(id);
    if (!this.running.has(id) && r.state !== 'done') this.run(id);
    return this.view(this.row(id));
  }

  /** Downloads that were running or queued when the app last stopped go on. */
  resumeInterrupted(): void {
    for (const r of this.store.list()) if (r.state === 'running' || r.state === 'queued') this.run(r.id);
  }

  private run(id: string): void {
    const r = this.row(id);
    const ctrl = new AbortController();
    const run: Running = { ctrl, intent: null, done: Promise.resolve(), samples: [], lastEmit: 0, lastPersist: 0 };
    this.running.set(id, run);
    this.store.update(id, { state: 'running', error: null });
    this.emit();
    const { token } = this.access();
    run.done = pullModel({
      endpoint: r.endpoint, repo: r.repo, revision: r.revision, cacheDir: this.cacheDir, token, signal: ctrl.signal,
      throttle: this.throttle,
      onPlan: ({ totalBytes, presentBytes, dir }) => {
        this.live.set(id, { doneBytes: presentBytes, totalBytes, dir });
        this.store.update(id, { totalBytes, doneBytes: presentBytes, dir });
        run.samples = [[Date.now(), presentBytes]];
        this.emit();
      },
      onProgress: (p) => {
        const live = this.live.get(id);
        if (!live) return;
        // p covers the files still missing (their resumed ranges included); the rest were whole already.
        live.doneBytes = Math.min(live.totalBytes, live.totalBytes - p.totalBytes + p.doneBytes);
        const now = Date.now();
        run.samples.push([now, live.doneBytes]);
        while (run.samples.length > 2 && now - run.samples[0][0] > SPEED_WINDOW_MS) run.samples.shift();
        if (now - run.lastPersist > PERSIST_MS) { run.lastPersist = now; this.store.update(id, { doneBytes: live.doneBytes }); }
        if (now - run.lastEmit > EMIT_MS) { run.lastEmit = now; this.emit(); }
      },
    }).then((res) => {
      const total = this.live.get(id)?.totalBytes ?? 0;
      this.store.update(id, { state: 'done', dir: res.dir, doneBytes: total, totalBytes: total, error: null });
    }, (e: unknown) => {
      const live = this.live.get(id);
      if (live) this.store.update(id, { doneBytes: live.doneBytes });
      if (run.intent === 'pause') this.store.update(id, { state: 'paused' });
      else if (run.intent === 'cancel') this.store.update(id, { state: 'cancelled', doneBytes: 0 });
      else if (run.intent !== 'shutdown') this.store.update(id, { state: 'error', error: (e as Error).message ?? String(e) });
    }).finally(() => {
      this.running.delete(id);
      if (run.intent !== 'shutdown') this.emit();
    });
  }

  private async stop(id: string, intent: Intent): Promise<void> {
    const run = this.running.get(id);
    if (!run) return;
    run.intent = intent;
    run.ctrl.abort();
    await run.done;
  }

  async pause(id: string): Promise<DownloadView> {
    const r = this.row(id);
    if (this.running.has(id)) await this.stop(id, 'pause');
    else if (r.state === 'queued' || r.state === 'running') this.store.update(id, { state: 'paused' });
    return this.view(this.row(id));
  }

  /** Stops it and removes its partial files; whole files already verified stay in the cache. */
  async cancel(id: string): Promise<DownloadView> {
    const r = this.row(id);
    await this.stop(id, 'cancel');
    this.removeParts(r.repo);
    if (r.state !== 'done') this.store.update(id, { state: 'cancelled', doneBytes: 0 });
    this.live.delete(id);
    this.emit();
    return this.view(this.row(id));
  }

  private removeParts(repo: string): void {
    const { blobs } = cacheRepo(this.cacheDir, repo);
    if (!existsSync(blobs)) return;
    for (const n of readdirSync(blobs)) if (/\.part(\.json(\.tmp)?)?$/.test(n)) rmSync(join(blobs, n), { force: true });
  }

  async verify(id: string): Promise<VerifyResult> {
    const r = this.row(id);
    if (this.running.has(id)) throw new ContractError('busy', `${r.repo} is still downloading: pause it or let it finish first`);
    if (r.state !== 'done' || !r.dir || !existsSync(r.dir)) throw new ContractError('bad_request', `${r.repo} has not finished downloading: nothing to verify yet`);
    const check = await verifySnapshot(r.dir);
    const bad = [...check.damaged, ...check.missing];
    if (bad.length) {
      this.store.update(id, { state: 'error', error: `${bad.length} file(s) damaged or missing (${bad.join(', ')}): resume to fetch them again` });
      this.emit();
    }
    return { ok: check.ok, checked: check.checked, damaged: bad };
  }

  /** Removes the download and its snapshot; blobs no other snapshot links are removed too. */
  async delete(id: string): Promise<boolean> {
    const r = this.row(id);
    await this.stop(id, 'cancel');
    const repo = cacheRepo(this.cacheDir, r.repo);
    this.removeParts(r.repo);
    const snap = r.dir ?? this.live.get(id)?.dir ?? null;
    if (snap && resolve(dirname(snap)) === resolve(repo.snapshots)) {
      rmSync(snap, { recursive: true, force: true });
      const commit = basename(snap);
      if (existsSync(repo.refs)) for (const ref of readdirSync(repo.refs)) {
        try { if (readFileSync(join(repo.refs, ref), 'utf8').trim() === commit) rmSync(join(repo.refs, ref), { force: true }); } catch { /* keep */ }
      }
      this.dropUnlinkedBlobs(repo.snapshots, repo.blobs);
      if (!existsSync(repo.snapshots) || readdirSync(repo.snapshots).length === 0) rmSync(repo.root, { recursive: true, force: true });
    }
    this.live.delete(id);
    const deleted = this.store.delete(id);
    this.emit();
    return deleted;
  }

  private dropUnlinkedBlobs(snapshots: string, blobs: string): void {
    if (!existsSync(blobs)) return;
    const used = new Set<string>();
    const walk = (d: string) => {
      for (const n of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, n.name);
        if (n.isDirectory()) walk(p);
        else if (n.isSymbolicLink()) used.add(basename(readlinkSync(p)));
      }
    };
    if (existsSync(snapshots)) walk(snapshots);
    for (const b of readdirSync(blobs)) if (!used.has(b)) rmSync(join(blobs, b), { force: true });
  }

  /** Stops every running download and leaves it 'running' in the database, to resume at the next start. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id, 'shutdown')));
  }
}

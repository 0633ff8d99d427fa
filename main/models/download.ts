// download.ts — fetch a model repository from a Hugging Face–compatible hub into a local folder.
// Every file is split into byte ranges fetched over several connections at once (files and
// ranges share one pool), written at their offsets into NAME.part, with the bookkeeping of
// finished ranges beside it (range-state.ts): a crash, restart or dropped connection loses at
// most the ranges in flight. A file is renamed into place only when its sha256 matches the hub's
// LFS id; when it does not, only the ranges whose bytes changed on disk are fetched again. Free
// disk space is checked up front against what is still missing and again before each range (a
// disk another program fills meanwhile stops the pull before it writes into a full disk); a
// full disk during the download is a clear error that leaves the .part files to resume from.
// Files go to a plain folder (dest) or into the hub cache layout (cacheDir, pull-layout.ts).
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { listRemoteFiles, resolveCommit, type HubAccess, type RemoteFile } from './hub-files.ts';
import { cacheLayout, flatLayout, type PullLayout } from './pull-layout.ts';
import { pool } from './pool.ts';
import { ChangedError, diskError, fetchRange, TransientError } from './range-fetch.ts';
import { dropState, loadState, saveState, splitRanges, type RangeState } from './range-state.ts';
import { Throttle } from './throttle.ts';

export { httpError, listRemoteFiles, resolveCommit, TOKEN_SETTING, type RemoteFile } from './hub-files.ts';

export interface PullProgress { file: string; bytes: number; total: number; doneBytes: number; totalBytes: number }

export interface PullOptions extends HubAccess {
  dest?: string;                 // a plain folder: each file under its own name
  cacheDir?: string;             // else the hub cache layout in this folder (hf-cache.ts)
  onProgress?: (p: PullProgress) => void;
  retries?: number;              // attempts per range after a failure worth retrying (default RETRIES)
  connections?: number;          // connections at once, over all files and ranges (default CONNECTIONS)
  rangeBytes?: number;           // size of one range (default RANGE_BYTES)
  bytesPerSecond?: number;       // bandwidth limit, 0 = none
  backoffMs?: number;            // first backoff (default BACKOFF_MS)
  throttle?: Throttle;           // a limit shared with other pulls (its rate can change while running)
  /** Once the files are known: all of the repo's bytes, and those already on disk (whole files and resumed ranges). */
  onPlan?: (p: { totalBytes: number; presentBytes: number; dir: string }) => void;
}

/** Attempts after the first when a range fails in a way worth retrying; each refetches only that range. */
export const RETRIES = 5;
/** First backoff; doubled each attempt (0.5, 1, 2, 4, 8 s). */
export const BACKOFF_MS = 500;
/** Connections at once: small files do not wait behind a 10 GB shard, and one shard uses several. */
export const CONNECTIONS = 8;
/** One range: the most a crash loses per connection, and the unit fetched again when damaged. */
export const RANGE_BYTES = 32 * 1024 * 1024;
/** Times a file whose sha256 does not match is repaired before the pull gives up on it. */
const VERIFY_ROUNDS = 2;
// Room to leave on the disk beyond the files themselves (metadata, page cache spill).
const DISK_HEADROOM_BYTES = 64 * 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sha256Of(path: string, start = 0, end?: number): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path, { start, end }), h);
  return h.digest('hex');
}

interface FileJob { f: RemoteFile & { size: number }; final: string; part: string; state: RangeState; fh: FileHandle; doneBytes: number; also: RemoteFile[] }

export interface PullResult { files: RemoteFile[]; dir: string; commit: string | null }

function rangeLen(s: RangeState, i: number): number { return Math.min(s.size, (i + 1) * s.rangeBytes) - i * s.rangeBytes; }

async function openJob(layout: PullLayout, f: RemoteFile & { size: number }, rangeBytes: number): Promise<FileJob> {
  const final = layout.finalOf(f);
  const part = `${final}.part`;
  mkdirSync(dirname(final), { recursive: true });
  let state = loadState(part, f.size, rangeBytes);
  let fh: FileHandle;
  if (state) fh = await open(part, 'r+');
  else {
    dropState(part);
    state = { etag: '', size: f.size, rangeBytes, done: {} };
    fh = await open(part, 'w');
    try { await fh.truncate(f.size); } catch (e) { await fh.close(); throw diskError(e, part); }
    saveState(part, state);
  }
  const doneBytes = Object.keys(state.done).reduce((s, i) => s + rangeLen(state, Number(i)), 0);
  return { f, final, part, state, fh, doneBytes, also: [] };
}

/** The ranges of a finished .part whose bytes on disk no longer match what was received. */
async function damagedRanges(job: FileJob): Promise<number[]> {
  const bad: number[] = [];
  for (const [i, sha] of Object.entries(job.state.done)) {
    const start = Number(i) * job.state.rangeBytes;
    if (await sha256Of(job.part, start, start + rangeLen(job.state, Number(i)) - 1) !== sha) bad.push(Number(i));
  }
  return bad;
}

/** Fetches the missing ranges of every job over one pool of connections. */
async function fetchMissing(opts: PullOptions, dir: string, jobs: FileJob[], throttle: Throttle, totals: { done: number; total: number }): Promise<void> {
  const tasks = jobs.flatMap((job) => splitRanges(job.f.size, job.state.rangeBytes)
    .filter((r) => job.state.done[r.index] === undefined).map((r) => ({ job, r })));
  await pool(tasks, opts.connections ?? CONNECTIONS, async ({ job, r }) => {
    checkDisk(dir, totals.total - totals.done);
    for (let attempt = 0; ; attempt++) {
      let got = 0;
      try {
        const { sha256, etag } = await fetchRange(opts, { path: job.f.path, size: job.f.size, start: r.start, end: r.end, etag: job.state.etag },
          job.fh, job.part, throttle, (n) => {
            got += n;
            opts.onProgress?.({ file: job.f.path, bytes: job.doneBytes + got, total: job.f.size, doneBytes: totals.done + got, totalBytes: totals.total });
          });
        if (job.state.etag && etag && etag !== job.state.etag) throw new ChangedError(`${job.f.path}: ETag changed from ${job.state.etag} to ${etag}`);
        if (!job.state.etag) job.state.etag = etag;
        job.state.done[r.index] = sha256;
        saveState(job.part, job.state);   // after the bytes are written: a kill never records a range it lacks
        job.doneBytes += got;
        totals.done += got;
        return;
      } catch (e) {
        if (e instanceof ChangedError) {
          job.state.done = {}; job.state.etag = ''; saveState(job.part, job.state);
          throw new Error(`${e.message}; it changed on the hub while downloading: pull again to fetch the new version`);
        }
        const retries = opts.retries ?? RETRIES;
        if (!(e instanceof TransientError) || opts.signal?.aborted) throw e;
        if (attempt >= retries) throw new Error(`${e.message} (gave up after ${retries + 1} attempts; pull again to resume)`);
        await sleep((opts.backoffMs ?? BACKOFF_MS) * 2 ** attempt);
      }
    }
  });
}

/** Verifies each finished job's sha256; a mismatch drops the damaged ranges (all, if none is) for another round. */
async function verify(layout: PullLayout, jobs: FileJob[]): Promise<FileJob[]> {
  const again: FileJob[] = [];
  for (const job of jobs) {
    await job.fh.datasync();
    if (job.f.sha256 && await sha256Of(job.part) !== job.f.sha256) {
      const bad = await damagedRanges(job);
      for (const i of bad.length ? bad : Object.keys(job.state.done).map(Number)) {
        job.doneBytes -= rangeLen(job.state, i);
        delete job.state.done[i];
      }
      saveState(job.part, job.state);
      again.push(job);
      continue;
    }
    await job.fh.close();
    renameSync(job.part, job.final);
    dropState(job.part);
    for (const f of [job.f, ...job.also]) layout.placed(f);
  }
  return again;
}

function checkDisk(dest: string, needed: number): void {
  const fs = statfsSync(dest);
  const free = fs.bavail * fs.bsize;
  if (needed + DISK_HEADROOM_BYTES > free) {
    throw new Error(`not enough disk space in ${dest}: need ${(needed / 2 ** 30).toFixed(2)} GiB, ${(free / 2 ** 30).toFixed(2)} GiB free`);
  }
}

/** Where the files go: opts.dest as a plain folder, else the cache layout at the revision's commit. */
async function layoutFor(opts: PullOptions): Promise<{ layout: PullLayout; commit: string | null }> {
  if (opts.dest) return { layout: flatLayout(opts.dest), commit: null };
  if (!opts.cacheDir) throw new Error('pullModel: give dest (a plain folder) or cacheDir (the hub cache)');
  const commit = await resolveCommit(opts);
  if (!commit) throw new Error(`${opts.repo}@${opts.revision ?? 'main'}: the hub did not say which commit this is (no X-Repo-Commit); use a plain folder instead of the cache`);
  return { layout: cacheLayout(opts.cacheDir, opts.repo, opts.revision ?? 'main', commit), commit };
}

/** Downloads every model file of the repository; resumable and verified. */
export async function pullModel(opts: PullOptions): Promise<PullResult> {
  const files = await listRemoteFiles(opts);
  const { layout, commit } = await layoutFor(opts);
  mkdirSync(layout.dir, { recursive: true });
  const rangeBytes = opts.rangeBytes ?? RANGE_BYTES;
  const missing = files.filter((f) => !layout.complete(f));
  const unsized = missing.find((f) => f.size === undefined);
  if (unsized) throw new Error(`${unsized.path}: the hub gave no size for it; cannot plan its ranges`);
  // Small files first: a bad repository shows up before gigabytes move.
  const sized = (missing as Array<RemoteFile & { size: number }>).sort((a, b) => a.size - b.size);
  const jobs: FileJob[] = [];
  try {
    for (const f of sized) {
      // Two paths with the same bytes share one blob in the cache: fetch it once.
      const same = jobs.find((j) => j.final === layout.finalOf(f));
      if (same) { same.also.push(f); continue; }
      jobs.push(await openJob(layout, f, rangeBytes));
    }
    const totals = { done: jobs.reduce((s, j) => s + j.doneBytes, 0), total: jobs.reduce((s, j) => s + j.f.size, 0) };
    const all = files.reduce((s, f) => s + (f.size ?? 0), 0);
    opts.onPlan?.({ totalBytes: all, presentBytes: all - totals.total + totals.done, dir: layout.dir });
    checkDisk(layout.dir, totals.total - totals.done);
    const throttle = opts.throttle ?? new Throttle(opts.bytesPerSecond);
    let pending = jobs;
    for (let round = 0; pending.length; round++) {
      await fetchMissing(opts, layout.dir, pending, throttle, totals);
      pending = await verify(layout, pending);
      if (pending.length && round >= VERIFY_ROUNDS) {
        const f = pending[0];
        await f.fh.close().catch(() => undefined);
        rmSync(f.part, { force: true }); dropState(f.part);
        throw new Error(`${f.f.path}: sha256 mismatch after ${round + 1} attempts (expected ${f.f.sha256}); the partial file was removed`);
      }
    }
  } finally {
    await Promise.all(jobs.map((j) => j.fh.close().catch(() => undefined)));
  }
  layout.finish();
  return { files, dir: layout.dir, commit };
}

// `karakoram pull` in a child process against the Hub-like server: SIGKILLed at 20 random byte
// offsets (a seeded RNG: KK_KILL_SEED reproduces a failure) and resumed each time to a verified
// copy; a file-size limit (ulimit -f) → a clear disk-full error and nothing shown complete. The
// pulls go into the hub cache layout (the default): blobs/ID.part while downloading, the blob
// and its snapshot link only once verified.
// The children run with spawn, never spawnSync: the hub lives in this process and a blocked
// event loop would starve the download (that is how the first version of this suite hung).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, expectVerified, ROOT, tmp } from './hub-fixtures.ts';
import { startHub, type Hub } from './hub-server.ts';

const KILLS = 20;
const SEED = Number(process.env.KK_KILL_SEED ?? 20261204);
const RANGE = 64 * 1024;
// Kill offsets in the bytes one run receives: 20 × the maximum stays below the repo's ~10.8 MB,
// so no run can finish before its kill, and each run completes a few ranges before it.
const KILL_MIN = 32 * 1024;
const KILL_MAX = 384 * 1024;
const CHILD_TIMEOUT_MS = 60_000;

/** mulberry32: a small seeded PRNG, so a failing kill sequence can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every finished blob's bytes hash to its name, and every snapshot link points at one: nothing unverified looks complete. */
function expectOnlyVerifiedBlobs(repo: string): void {
  const blobs = join(repo, 'blobs');
  for (const b of existsSync(blobs) ? readdirSync(blobs).filter((n) => !n.includes('.part')) : []) {
    expect(createHash('sha256').update(readFileSync(join(blobs, b))).digest('hex'), b).toBe(b);
  }
  const snaps = join(repo, 'snapshots');
  for (const s of existsSync(snaps) ? readdirSync(snaps) : []) {
    for (const f of readdirSync(join(snaps, s))) expect(existsSync(join(snaps, s, f)), `${f} links to a missing blob`).toBe(true);
  }
}

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string }

describe('karakoram pull in a child process', () => {
  let hub: Hub;
  let sentThisRun = 0;
  let killAt = Infinity;
  let onKill: (() => void) | null = null;
  // Throttled so a kill lands within a chunk or two of its offset.
  beforeAll(async () => {
    hub = await startHub({ 'kk/demo': DEMO }, {
      bytesPerSecond: 2 * 2 ** 20,
      onSent: (n) => { sentThisRun += n; if (sentThisRun >= killAt && onKill) { const k = onKill; onKill = null; k(); } },
    });
  });
  afterAll(() => hub.close());
  const args = (dir: string) => [join(ROOT, 'bin/karakoram.js'), 'pull', 'kk/demo', '--endpoint', hub.endpoint, '--cache-dir', dir,
    '--connections', '2', '--range-bytes', String(RANGE)];

  function runChild(cmd: string, argv: string[], kill?: number): Promise<Exit> {
    sentThisRun = 0;
    killAt = kill ?? Infinity;
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    onKill = kill === undefined ? null : () => child.kill('SIGKILL');
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    return new Promise((resolve) => child.on('exit', (code, signal) => { clearTimeout(timer); onKill = null; resolve({ code, signal, stderr }); }));
  }

  it(`killed at ${KILLS} random byte offsets (seed ${SEED}), resumes to a verified copy`, async () => {
    const dir = tmp('kill');
    const repo = join(dir, 'models--kk--demo');
    const next = rng(SEED);
    const offsets: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const at = Math.floor(KILL_MIN + next() * (KILL_MAX - KILL_MIN));
      offsets.push(at);
      const r = await runChild(process.execPath, args(dir), at);
      expect(r.signal, `run ${i} (kill at ${at} bytes, seed ${SEED}) ended by itself: ${r.stderr}`).toBe('SIGKILL');
      expectOnlyVerifiedBlobs(repo);
    }
    const before = hub.requests.length;
    const last = await runChild(process.execPath, args(dir));
    expect(last.code, last.stderr).toBe(0);
    expectVerified(join(repo, 'snapshots', readFileSync(join(repo, 'refs', 'main'), 'utf8')), DEMO);
    expect(readdirSync(join(repo, 'blobs')).filter((n) => n.includes('.part'))).toEqual([]);
    // It resumed: the last run fetched fewer ranges than the whole repo has.
    const all = DEMO.files.reduce((n, f) => n + Math.ceil(f.data.length / RANGE), 0);
    expect(hub.requests.slice(before).filter((r) => r.startsWith('GET /blobs/')).length).toBeLessThan(all);
  }, 300_000);

  it('a full disk (ulimit -f 1 MiB): a clear error and nothing shown complete', async () => {
    const dir = tmp('full');
    const cmd = `ulimit -f 1024; exec "${process.execPath}" ${args(dir).map((a) => `"${a}"`).join(' ')}`;
    const r = await runChild('bash', ['-c', cmd]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/disk full writing .*\.part \(EFBIG\)/);
    const repo = join(dir, 'models--kk--demo');
    expectOnlyVerifiedBlobs(repo);
    for (const f of DEMO.files.filter((x) => x.data.length > 2 ** 20)) {
      expect(existsSync(join(repo, 'blobs', f.sha256))).toBe(false);
      for (const snap of readdirSync(join(repo, 'snapshots'))) expect(existsSync(join(repo, 'snapshots', snap, f.path))).toBe(false);
    }
  }, 60_000);
});

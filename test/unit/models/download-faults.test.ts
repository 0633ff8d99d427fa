// The downloader against a Hub-like server (hub-server.ts) serving tiny-k2 and demo-k2: redirects
// to blobs, If-Range resumes, dropped connections, a process killed at 20 random points, a full
// disk and a gated repository.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullModel } from '../../../main/models/download.ts';
import { repoFromDir, startHub, type HubRepo } from './hub-server.ts';

const ROOT = join(__dirname, '../../..');
const SHARED = process.env.KK_SHARED ?? join(ROOT, '../shared');
const TINY = repoFromDir(join(SHARED, 'fixtures/tiny-k2'));
const DEMO = repoFromDir(join(ROOT, 'assets/models/demo-k2'));
const GATED: HubRepo = { ...DEMO, gatedToken: 'hf_secret' };
const KILLS = 20;

function expectVerified(dest: string, repo: HubRepo): void {
  for (const f of repo.files) expect(readFileSync(join(dest, f.path)).equals(f.data), f.path).toBe(true);
  expect(readdirSync(dest).filter((n) => n.endsWith('.part'))).toEqual([]);
}

describe('download against a Hub-like server', () => {
  let hub: Awaited<ReturnType<typeof startHub>>;
  const faults: { dropAfterBytes: number[] } = { dropAfterBytes: [] };
  beforeAll(async () => { hub = await startHub({ 'kk/tiny': TINY, 'kk/demo': DEMO, 'kk/gated': GATED }, faults); });
  afterAll(() => hub.server.close());

  it('downloads tiny-k2 through resolve → blob redirects, byte for byte', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kk-hub-'));
    await pullModel({ endpoint: hub.endpoint, repo: 'kk/tiny', dest });
    expectVerified(dest, TINY);
  });

  it('survives dropped connections: each retry resumes with a Range from where it broke', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kk-hub-'));
    faults.dropAfterBytes.push(300_000, 200_000, 100_000);
    const before = hub.requests.length;
    await pullModel({ endpoint: hub.endpoint, repo: 'kk/demo', dest, concurrency: 1 });
    expectVerified(dest, DEMO);
    const resumes = hub.requests.slice(before).filter((r) => /^GET \/blobs\/\w+ bytes=[1-9]\d*-$/.test(r));
    expect(resumes.length).toBeGreaterThanOrEqual(3);
  });

  it('a gated repository without a token: a clear message naming the token setting', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'kk-hub-'));
    await expect(pullModel({ endpoint: hub.endpoint, repo: 'kk/gated', dest })).rejects.toThrow(/HTTP 401.*gated.*Set HF_TOKEN/);
    await expect(pullModel({ endpoint: hub.endpoint, repo: 'kk/gated', dest, token: 'wrong' })).rejects.toThrow(/token in HF_TOKEN has no access/);
    await pullModel({ endpoint: hub.endpoint, repo: 'kk/gated', dest, token: 'hf_secret' });
    expectVerified(dest, GATED);
  });
});

describe('karakoram pull in a child process', () => {
  let hub: Awaited<ReturnType<typeof startHub>>;
  // ~11 MB at 4 MB/s: a pull takes ~3 s, so random kills land mid-file.
  beforeAll(async () => { hub = await startHub({ 'kk/demo': DEMO }, { bytesPerSecond: 4 * 2 ** 20 }); });
  afterAll(() => hub.server.close());
  const args = (dest: string) => [join(ROOT, 'bin/karakoram.js'), 'pull', 'kk/demo', '--endpoint', hub.endpoint, '--models-dir', dest];

  it(`killed at ${KILLS} random points, resumes to a verified copy`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kk-kill-'));
    const dest = join(dir, 'kk--demo');
    let killedMidway = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = spawn(process.execPath, args(dir), { stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      // tsx start-up is ~1 s; kill somewhere in the transfer that follows.
      const timer = setTimeout(() => child.kill('SIGKILL'), 800 + Math.random() * 1500);
      const code = await exited;
      clearTimeout(timer);
      if (code === null) killedMidway++;
      if (code === 0) break;  // finished before the kill: nothing left to interrupt
    }
    expect(killedMidway).toBeGreaterThan(0);
    const last = spawnSync(process.execPath, args(dir), { encoding: 'utf8' });
    expect(last.status, last.stderr).toBe(0);
    expectVerified(dest, DEMO);
  }, 240_000);

  it('a full disk (ulimit -f): a clear error and nothing shown complete', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kk-full-'));
    const cmd = `ulimit -f 1024; exec "${process.execPath}" ${args(dir).map((a) => `"${a}"`).join(' ')}`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/disk full writing .*\.part \(EFBIG\)/);
    const dest = join(dir, 'kk--demo');
    for (const f of DEMO.files.filter((x) => x.data.length > 1024 * 1024)) expect(existsSync(join(dest, f.path))).toBe(false);
  }, 60_000);
});

// Network faults against the Hub-like server: dropped connections resume inside the range that
// broke; a range damaged in transit is the only one fetched again; an interrupted pull leaves
// .part files with their range bookkeeping, and the next pull fetches only what is missing.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullModel } from '../../../main/models/download.ts';
import { blobRequests, DEMO, expectVerified, tmp } from './hub-fixtures.ts';
import { startHub, type Faults, type Hub } from './hub-server.ts';

const RANGE = 512 * 1024;
const SHARD = DEMO.files.find((f) => f.path === 'model-00001-of-00002.safetensors')!;
const RANGES = Math.ceil(SHARD.data.length / RANGE);

describe('download faults', { timeout: 30_000 }, () => {
  let hub: Hub;
  const faults: Faults = { dropAfterBytes: [], corrupt: [] };
  beforeAll(async () => { hub = await startHub({ 'kk/demo': DEMO }, faults); });
  afterAll(() => hub.close());
  const pull = (dest: string, extra = {}) => pullModel({ endpoint: hub.endpoint, repo: 'kk/demo', dest, rangeBytes: RANGE, backoffMs: 20, ...extra });

  it('dropped connections: each broken range is retried, the others are fetched once', async () => {
    const dest = tmp('drop');
    faults.dropAfterBytes!.push(300_000, 200_000, 100_000);
    const before = hub.requests.length;
    await pull(dest, { connections: 1 });
    expectVerified(dest, DEMO);
    expect(faults.dropAfterBytes).toEqual([]);
    const all = DEMO.files.reduce((n, f) => n + Math.ceil(f.data.length / RANGE), 0);
    expect(hub.requests.slice(before).filter((r) => r.startsWith('GET /blobs/'))).toHaveLength(all + 3);
  });

  it('a range damaged in transit (Content-Digest mismatch): only that range is fetched again', async () => {
    const dest = tmp('corrupt');
    const badStart = 3 * RANGE;
    faults.corrupt!.push({ path: SHARD.path, start: badStart });
    const before = hub.requests.length;
    await pull(dest);
    expectVerified(dest, DEMO);
    const reqs = blobRequests(hub.requests.slice(before), SHARD.path);
    expect(reqs).toHaveLength(RANGES + 1);
    expect(reqs.filter((r) => r.includes(`bytes=${badStart}-`))).toHaveLength(2);
  });

  it('an interrupted pull keeps its .part and ranges; the next fetches only the missing ranges', async () => {
    const dest = tmp('resume');
    faults.dropAfterBytes!.push(RANGE - 1000);
    await expect(pull(dest, { retries: 0, connections: 1 })).rejects.toThrow(/connection|dropped|ended/);
    const parts = readdirSync(dest).filter((f) => f.endsWith('.part'));
    expect(parts.length).toBeGreaterThan(0);
    for (const p of parts) expect(existsSync(join(dest, `${p}.json`))).toBe(true);
    const before = hub.requests.length;
    await pull(dest);
    expectVerified(dest, DEMO);
    const total = DEMO.files.reduce((n, f) => n + Math.ceil(f.data.length / RANGE), 0);
    const again = hub.requests.slice(before).filter((r) => r.startsWith('GET /blobs/')).length;
    expect(again).toBeLessThan(total);
  });
});

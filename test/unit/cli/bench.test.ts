// karakoram bench's engine-session contract (outside checks read these keys): --prefix-len /
// --follow-len add the three times to first token and the cache's bytes per token, --concurrency a
// row per sequence count. Figures only (no speed targets); the hit and the restore must come out of
// the cache (all prefix tokens cached), which is what makes them fast.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { run as benchCmd } from '../../../main/cli/commands/bench.ts';
import { requireAddon } from '../../support/engine.ts';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out += String(chunk); return true; });
  try { return { code: await fn(), out }; } finally { spy.mockRestore(); }
}

describe('karakoram bench (argument checks)', () => {
  it('refuses a bad --concurrency list', async () => {
    await expect(benchCmd(['--synthetic', 'tiny', '--concurrency', '1,x'])).rejects.toThrow(/--concurrency/);
    await expect(benchCmd(['--synthetic', 'tiny', '--concurrency', '0'])).rejects.toThrow(/--concurrency/);
  });
  it('refuses an unknown --kv-dtype', async () => {
    await expect(benchCmd(['--synthetic', 'tiny', '--kv-dtype', 'fp16'])).rejects.toThrow(/--kv-dtype/);
  });
});

describe('karakoram bench engine sessions', () => {
  beforeAll(() => { requireAddon('karakoram bench'); });
  it('prints ttft_fresh_ms / ttft_prefix_hit_ms / ttft_snapshot_ms, kv_bytes_per_token and the concurrency rows', async () => {
    const { code, out } = await capture(() => benchCmd(['--synthetic', 'tiny', '--threads', '2', '--prompt-len', '8', '--gen', '2',
      '--prefix-len', '200', '--follow-len', '8', '--concurrency', '1,2']));
    expect(code).toBe(0);
    const j = JSON.parse(out) as Record<string, unknown>;
    for (const k of ['ttft_fresh_ms', 'ttft_prefix_hit_ms', 'ttft_snapshot_ms']) expect(j[k]).toBeGreaterThan(0);
    // tiny: 4 layers × (kv_lora 64 + rope 16) fp32 values per token.
    expect(j.kv_bytes_per_token).toBe(4 * (64 + 16) * 4);
    expect(j.kv_dtype).toBe('fp32');
    // Each precision's row (kernels/common/kk_kv.h): bf16 2 bytes a value, fp8 1 byte + a 4-byte scale.
    expect(j.kv_bytes_per_token_by_dtype).toEqual({ fp32: 4 * 80 * 4, bf16: 4 * 80 * 2, fp8: 4 * (80 + 4) });
    expect(j.prefix_hit_cached_tokens).toBe(200);
    expect(j.snapshot_cached_tokens).toBe(200);
    // The snapshot file per prefix token: the whole blocks it stores (200 tokens -> 4 blocks of 64)
    // plus its header, ids and checksum, so above kv_bytes_per_token.
    const perTok = j.snapshot_bytes_per_token as number;
    expect(perTok).toBeCloseTo((j.snapshot_bytes as number) / 200, 2);
    expect(perTok).toBeGreaterThanOrEqual(j.kv_bytes_per_token as number);
    expect(perTok).toBeLessThan((j.kv_bytes_per_token as number) * (256 / 200) + 64);
    const rows = j.concurrency as Array<Record<string, number>>;
    expect(rows.map((r) => r.sequences)).toEqual([1, 2]);
    for (const r of rows) {
      expect(r.aggregate_decode_tok_s).toBeGreaterThan(0);
      expect(r.bytes_per_step).toBeGreaterThan(0);
      expect(r.read_fraction).toBeGreaterThan(0);
    }
  }, 120_000);
});

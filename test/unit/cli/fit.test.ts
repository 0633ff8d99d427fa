// `karakoram fit --json`: the object outside checks parse, for a bare config.json and a catalog name.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../../..');
const SHARED = process.env.KK_SHARED ?? join(ROOT, '../shared');
const fit = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bin/karakoram.js'), 'fit', ...args, '--json'], { encoding: 'utf8' })) as Record<string, unknown>;

describe('karakoram fit --json', () => {
  it('plans K2-Thinking from its bare config.json on an 80 GB GPU + 768 GB RAM', () => {
    const p = fit(join(SHARED, 'specs/kimi-k2-thinking.config.json'), '--gpu-mem', '80', '--ram', '768', '--cpu-bw', '300', '--gpu-bw', '2000', '--context', '4096');
    for (const k of ['fits', 'gpu_resident_bytes', 'hot_experts', 'cpu_expert_bytes', 'kv_bytes', 'expected_decode_tok_s', 'notes']) expect(p).toHaveProperty(k);
    expect(p.fits).toBe(true);
    expect(p.hot_experts as number).toBeGreaterThan(0);
    expect(p.kv_bytes).toBe(61 * 576 * 4 * 4096);
    expect(p.gpu_resident_bytes as number).toBeLessThanOrEqual(80e9);
  }, 60_000);

  it('names K2.5 by its catalog entry and says images are not supported yet', () => {
    const p = fit('moonshotai/Kimi-K2.5', '--gpu-mem', '0', '--ram', '1000', '--cpu-bw', '400');
    expect(p.architecture).toBe('KimiK25ForConditionalGeneration');
    expect((p.notes as string[]).join(' ')).toMatch(/images are not supported yet/);
    expect(p.hot_experts).toBe(0);
  }, 60_000);

  it('fails clearly on a missing file', () => {
    expect(() => execFileSync(process.execPath, [join(ROOT, 'bin/karakoram.js'), 'fit', '/nonexistent/config.json'], { stdio: 'pipe' })).toThrow(/no such file/);
  }, 60_000);
});

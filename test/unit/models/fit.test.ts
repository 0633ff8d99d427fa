// Sizes from config dimensions against real checkpoints' tensor bytes, the K2.5 nesting, and the
// fit plan's placement arithmetic (native/src/placement/ policy with the flat prior).
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG, catalogEntry } from '../../../main/models/catalog.ts';
import { readConfigFile, textModelConfig } from '../../../main/models/config.ts';
import { fitPlan, GPU_WORKSPACE_BYTES } from '../../../main/models/fit.ts';
import { sizesFromConfig } from '../../../main/models/sizes.ts';

const SHARED = process.env.KK_SHARED ?? join(__dirname, '../../../../shared');
const DEMO = join(__dirname, '../../../assets/models/demo-k2');
const TINY = join(SHARED, 'fixtures/tiny-k2');
const GB = 1e9;

/** Bytes of every tensor's data in a checkpoint, from the safetensors headers (weight_shape metadata excluded). */
function tensorBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir).filter((n) => /^model-.*\.safetensors$/.test(n))) {
    const fd = openSync(join(dir, f), 'r');
    const len = Buffer.alloc(8); readSync(fd, len, 0, 8, 0);
    const hdr = Buffer.alloc(Number(len.readBigUInt64LE(0))); readSync(fd, hdr, 0, hdr.length, 8); closeSync(fd);
    for (const [name, t] of Object.entries(JSON.parse(hdr.toString()) as Record<string, { data_offsets?: [number, number] }>)) {
      if (name === '__metadata__' || name.endsWith('.weight_shape')) continue;
      total += t.data_offsets![1] - t.data_offsets![0];
    }
  }
  return total;
}

describe('sizesFromConfig', () => {
  it.each([['demo-k2', DEMO], ['tiny-k2', TINY]])('matches the tensor bytes of %s exactly', (_n, dir) => {
    expect(sizesFromConfig(readConfigFile(dir)).checkpointBytes).toBe(tensorBytes(dir));
  });

  it('reads K2.5 nesting (text_config, quantization_config at the top) as the same model', () => {
    const flat = readConfigFile(TINY);
    const { quantization_config, architectures: _a, model_type: _m, ...text } = flat;
    const nested = { architectures: ['KimiK25ForConditionalGeneration'], model_type: 'kimi_k25', quantization_config, text_config: text };
    const tc = textModelConfig(nested);
    expect(tc.multimodal).toBe(true);
    expect(tc.modelType).toBe('kimi_k25');
    expect(sizesFromConfig(nested)).toEqual(sizesFromConfig(flat));
    const inText = { architectures: ['KimiK25ForConditionalGeneration'], text_config: { ...text, quantization_config } };
    expect(sizesFromConfig(inText)).toEqual(sizesFromConfig(flat));
  });

  it('sizes K2-Thinking at ~594 GB with 24.8 MB experts, and FP8 0905 at ~1.03 TB', () => {
    const s = sizesFromConfig(readConfigFile(join(SHARED, 'specs/kimi-k2-thinking.config.json')));
    expect(s.checkpointBytes / GB).toBeCloseTo(594.2, 0);
    expect(s.expertBytes).toBe(3 * 7168 * 2048 * (0.5 + 2 / 32));
    expect(s.kvBytesPerToken).toBe(61 * (512 + 64) * 4);
    const fp8 = sizesFromConfig(catalogEntry('moonshotai/Kimi-K2-Instruct-0905')!.config);
    expect(fp8.format).toBe('fp8');
    expect(fp8.checkpointBytes / GB).toBeGreaterThan(1000);
    expect(fp8.engineBytes).toBe(s.engineBytes);  // converted to INT4, the same model in memory
  });

  it('lists K2.5, K2.6, K2-Thinking and K2-Instruct-0905, all sized', () => {
    expect(CATALOG.map((e) => e.repo)).toEqual(expect.arrayContaining(['moonshotai/Kimi-K2.5', 'moonshotai/Kimi-K2.6', 'moonshotai/Kimi-K2-Thinking', 'moonshotai/Kimi-K2-Instruct-0905']));
    for (const e of CATALOG) expect(sizesFromConfig(e.config).checkpointBytes).toBeGreaterThan(500 * GB);
    expect(CATALOG.find((e) => e.convertAfterDownload)?.repo).toBe('moonshotai/Kimi-K2-Instruct-0905');
  });

  it('rejects a config without dimensions and an unknown quantization', () => {
    expect(() => sizesFromConfig({})).toThrow(/hidden_size/);
    expect(() => sizesFromConfig({ ...readConfigFile(TINY), quantization_config: { quant_method: 'gptq' } })).toThrow(/gptq/);
  });
});

describe('fitPlan', () => {
  const s = sizesFromConfig(readConfigFile(join(SHARED, 'specs/kimi-k2-thinking.config.json')));
  it('puts non-experts + KV + workspace first, then as many experts as fit (flat prior)', () => {
    const gpu = 80 * GB;
    const p = fitPlan(s, { gpuMemBytes: gpu, ramBytes: 768 * GB, cpuBandwidthGBs: 300, gpuBandwidthGBs: 2000 }, 8192);
    const base = s.nonExpertBytes + s.kvBytesPerToken * 8192 + GPU_WORKSPACE_BYTES;
    expect(p.hot_experts).toBe(Math.floor((gpu - base) / s.expertBytes));
    expect(p.gpu_resident_bytes).toBeLessThanOrEqual(gpu);
    expect(p.gpu_resident_bytes + s.expertBytes).toBeGreaterThan(gpu);
    expect(p.cpu_expert_bytes).toBe((p.total_experts - p.hot_experts) * s.expertBytes);
    expect(p.fits).toBe(true);
  });

  it('a GPU too small for the non-experts holds nothing, and too little RAM does not fit', () => {
    const p = fitPlan(s, { gpuMemBytes: 24 * GB, ramBytes: 512 * GB, cpuBandwidthGBs: 200, gpuBandwidthGBs: 1000 }, 8192);
    expect(p.hot_experts).toBe(0);
    expect(p.gpu_resident_bytes).toBe(0);
    expect(p.fits).toBe(false);
    expect(p.notes.join(' ')).toMatch(/RAM/);
  });

  it('decode speed follows bytes per token over bandwidth', () => {
    const slow = fitPlan(s, { gpuMemBytes: 0, ramBytes: 1000 * GB, cpuBandwidthGBs: 200, gpuBandwidthGBs: 0 }, 8192);
    const fast = fitPlan(s, { gpuMemBytes: 0, ramBytes: 1000 * GB, cpuBandwidthGBs: 400, gpuBandwidthGBs: 0 }, 8192);
    expect(fast.expected_decode_tok_s / slow.expected_decode_tok_s).toBeCloseTo(2, 6);
    expect(slow.kv_bytes).toBe(s.kvBytesPerToken * 8192);
    expect(slow.bytes_per_token_cpu).toBe(s.nonExpertBytes - s.embedBytes + s.embedRowBytes + s.kvBytesPerToken * 8192 + s.moeLayers * s.topK * s.expertBytes);
  });
});

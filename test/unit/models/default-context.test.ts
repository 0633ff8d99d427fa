// The default context from a model's config and the machine: the model's maximum, capped by the
// tokens whose KV cache fits in KV_MEMORY_SHARE of the RAM left after the weights, in whole
// blocks, never below the floor; an explicit setting always wins. K2-Thinking's own config
// (../shared/specs) and the bundled demo model's, on machines with 8 GiB, 64 GiB and 1 TiB free.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseContext, CONTEXT_BLOCK_TOKENS, CONTEXT_FLOOR_TOKENS, KV_MEMORY_SHARE, LOADER_DEFAULT_MAX_POSITION, modelMaxContext,
  type ContextInput,
} from '../../../main/models/default-context.ts';
import { textModelConfig, type Config } from '../../../main/models/config.ts';
import { kvBytesPerTokenOf, sizesFromConfig } from '../../../main/models/sizes.ts';
import { DEMO_MODEL_DIR, sharedDir } from '../../../main/services/model-service.ts';
import { weightsSize } from '../../../main/services/model-inspect.ts';

const GiB = 2 ** 30;
const OVERHEAD = 512 * 2 ** 20;
const MACHINES = { '8 GiB': 8 * GiB, '64 GiB': 64 * GiB, '1 TiB': 1024 * GiB };
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Config;
const k2 = read(join(sharedDir(), 'specs', 'kimi-k2-thinking.config.json'));
const demo = read(join(DEMO_MODEL_DIR, 'config.json'));

function input(cfg: Config, weightsBytes: number, ram: number, dtype: 'fp32' | 'bf16' = 'fp32', setting: number | null = null): ContextInput {
  const text = textModelConfig(cfg).text;
  return { setting, maxContext: modelMaxContext(text), kvBytesPerToken: kvBytesPerTokenOf(text, dtype), weightsBytes, overheadBytes: OVERHEAD, ramAvailableBytes: ram };
}

describe('the model maximum the loader uses', () => {
  it('is max_position_embeddings: 262,144 for K2-Thinking (YaRN 4,096 × 64), 131,072 for the demo model', () => {
    expect(modelMaxContext(k2)).toBe(262_144);
    expect(modelMaxContext(demo)).toBe(131_072);
  });
  it('falls back to the YaRN window, then to the loader default', () => {
    const { max_position_embeddings: _, ...noMax } = k2;
    expect(modelMaxContext(noMax)).toBe(4096 * 64);
    const { rope_scaling: __, ...plain } = noMax;
    expect(modelMaxContext(plain)).toBe(LOADER_DEFAULT_MAX_POSITION);
  });
});

describe('K2-Thinking (594 GB of INT4 weights)', () => {
  const weights = sizesFromConfig(k2).checkpointBytes;
  it('gets the floor on 8 GiB and 64 GiB: nothing is left after the weights', () => {
    for (const ram of [MACHINES['8 GiB'], MACHINES['64 GiB']]) {
      const c = chooseContext(input(k2, weights, ram));
      expect(c).toMatchObject({ tokens: CONTEXT_FLOOR_TOKENS, source: 'floor' });
      expect(c.why).toMatch(/^context 4,096: the minimum/);
    }
  });
  it('gets its full 262,144 on 1 TiB, whose free quarter holds that cache', () => {
    const c = chooseContext(input(k2, weights, MACHINES['1 TiB']));
    expect(c).toMatchObject({ tokens: 262_144, source: 'model' });
    expect(c.why).toMatch(/^context 262,144: the model's maximum; its cache \(34\.3 GiB\) fits in 25% of the RAM free/);
  });
  it('is memory-bound in between, in whole blocks, and the cache precision counts', () => {
    const ram = 700e9;
    const fp32 = chooseContext(input(k2, weights, ram, 'fp32'));
    const perTok = kvBytesPerTokenOf(k2, 'fp32');
    const budget = (ram - weights - OVERHEAD) * KV_MEMORY_SHARE;
    expect(fp32.source).toBe('memory');
    expect(fp32.tokens).toBe(184_320);
    expect(fp32.tokens % CONTEXT_BLOCK_TOKENS).toBe(0);
    expect(fp32.tokens * perTok).toBeLessThanOrEqual(budget);
    expect((fp32.tokens + CONTEXT_BLOCK_TOKENS) * perTok).toBeGreaterThan(budget);
    expect(fp32.why).toBe('context 184,320: what fits in 25% of the RAM free after the weights (98.0 GiB); the model allows 262,144');
    // bf16 cache rows are half the bytes: the same memory holds the model's whole window.
    expect(kvBytesPerTokenOf(k2, 'bf16')).toBeLessThan(perTok);
    expect(chooseContext(input(k2, weights, ram, 'bf16'))).toMatchObject({ tokens: 262_144, source: 'model' });
  });
});

describe('the demo model', () => {
  const weights = weightsSize(DEMO_MODEL_DIR);
  it('gets its whole 131,072 on every machine (its cache is 1,280 bytes a token)', () => {
    expect(kvBytesPerTokenOf(demo, 'fp32')).toBe(1280);
    for (const ram of Object.values(MACHINES)) expect(chooseContext(input(demo, weights, ram))).toMatchObject({ tokens: 131_072, source: 'model' });
  });
  it('gets the floor when the machine has nothing free', () => {
    expect(chooseContext(input(demo, weights, OVERHEAD))).toMatchObject({ tokens: CONTEXT_FLOOR_TOKENS, source: 'floor' });
  });
});

describe('an explicit setting', () => {
  it('always wins, capped at the model maximum', () => {
    const weights = sizesFromConfig(k2).checkpointBytes;
    expect(chooseContext(input(k2, weights, MACHINES['8 GiB'], 'fp32', 32_768))).toEqual({ tokens: 32_768, source: 'setting', why: 'context 32,768: your setting' });
    expect(chooseContext(input(demo, 0, MACHINES['1 TiB'], 'fp32', 8192))).toMatchObject({ tokens: 8192, source: 'setting' });
    expect(chooseContext(input(k2, weights, MACHINES['1 TiB'], 'fp32', 1_000_000))).toEqual({ tokens: 262_144, source: 'setting', why: "context 262,144: your setting, capped at the model's maximum" });
  });
  it('a model smaller than the floor defaults to its own maximum', () => {
    const small = { ...demo, max_position_embeddings: 2048 };
    expect(chooseContext(input(small, 0, 0)).tokens).toBe(2048);
  });
});

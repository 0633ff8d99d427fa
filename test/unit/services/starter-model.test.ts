// The size arithmetic for a checkpoint not downloaded yet, checked where the answer is known: the
// tiny K2-Thinking fixture has the real layout (INT4 routed experts in groups of 32, bf16 the
// rest), so the formula must give its parameter count exactly and its file sizes closely; and
// Kimi-K2-Thinking comes out at its published 1.03T parameters / ~594 GB.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModel, weightsSize } from '../../../main/services/model-inspect.ts';
import { sharedDir } from '../../../main/services/model-service.ts';
import { STARTER_CONFIG, countWeights } from '../../../main/services/starter-model.ts';

/** Safetensors headers and the small weight_shape tensors the formula leaves out. */
const TINY_FILE_OVERHEAD = 0.02;

describe('countWeights', () => {
  it('matches the tiny K2-Thinking fixture tensor for tensor', () => {
    // The checkpoint alone: the fixture folder also holds reference.safetensors (activations).
    const src = join(sharedDir(), 'fixtures', 'tiny-k2');
    const index = JSON.parse(readFileSync(join(src, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    const dir = mkdtempSync(join(tmpdir(), 'kk-tiny-'));
    try {
      for (const f of ['config.json', ...new Set(Object.values(index.weight_map))]) copyFileSync(join(src, f), join(dir, f));
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      const w = countWeights(cfg);
      expect(w.params).toBe(inspectModel(dir).params.total);
      const files = weightsSize(dir);
      expect(Math.abs(files - w.bytes) / files).toBeLessThan(TINY_FILE_OVERHEAD);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('gives Kimi-K2-Thinking 1.03T parameters and about 594 GB', () => {
    const w = countWeights(JSON.parse(readFileSync(STARTER_CONFIG, 'utf8')) as Record<string, unknown>);
    expect(w.params / 1e12).toBeCloseTo(1.026, 3);
    expect(w.bytes / 1e9).toBeCloseTo(594.2, 1);
  });

  it('names a missing field instead of guessing', () => {
    expect(() => countWeights({ hidden_size: 8 })).toThrow(/vocab_size/);
  });
});

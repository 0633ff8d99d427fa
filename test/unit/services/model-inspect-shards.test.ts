// inspectModel counts only the model's weight shards: tiny-k2's folder also holds
// reference.safetensors (expected activations), which is not part of the model.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModel, weightsSize } from '../../../main/services/model-inspect.ts';

const TINY = join(process.env.KK_SHARED ?? join(__dirname, '../../../../shared'), 'fixtures/tiny-k2');
const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];

describe('inspectModel on tiny-k2', () => {
  it('sizes the model from the shards its index names, not reference.safetensors', () => {
    const want = SHARDS.reduce((s, f) => s + statSync(join(TINY, f)).size, 0);
    expect(weightsSize(TINY)).toBe(want);
    const got = inspectModel(TINY);
    expect(got.memory.weightsBytes).toBeLessThanOrEqual(want);
    expect(got.memory.weightsBytes).toBeGreaterThan(want * 0.9);
    // The reference tensors are float64 activations, not parameters: the count is the config's model.
    expect(got.params.total).toBeLessThan(want);
  });
});

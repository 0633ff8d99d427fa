// The KV cache precision through the binding on tiny-k2: each kvDtype loads in fast mode and the
// engine's bytes per token equal what the memory plan computes for it (common/kv-cache.ts, used by
// main/models/sizes.ts and the model panel); exact mode refuses bf16 / fp8, an unknown name is a
// TypeError; and K2's figures per precision.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KV_DTYPES } from '../../../common/kv-cache.ts';
import { loadBinding } from '../../../main/engine/native.ts';
import { readConfigFile } from '../../../main/models/config.ts';
import { kvBytesPerTokenOf, sizesFromConfig } from '../../../main/models/sizes.ts';
import { requireAddon } from '../../support/engine.ts';

const SHARED = process.env.KK_SHARED ?? join(__dirname, '../../../../shared');
const TINY = join(SHARED, 'fixtures/tiny-k2');

describe('KV bytes per token', () => {
  it('K2 (61 layers, 512 + 64): fp32 140,544, bf16 70,272, fp8 35,380', () => {
    const k2 = readConfigFile(join(SHARED, 'specs/kimi-k2-thinking.config.json'));
    expect(kvBytesPerTokenOf(k2, 'fp32')).toBe(61 * 576 * 4);
    expect(kvBytesPerTokenOf(k2, 'bf16')).toBe(61 * 576 * 2);
    expect(kvBytesPerTokenOf(k2, 'fp8')).toBe(61 * (4 + 576));
    expect(sizesFromConfig(k2, 'bf16').kvBytesPerToken).toBe(70_272);
  });
});

describe('KV cache precision through the binding', () => {
  beforeAll(() => { requireAddon('the KV precision binding tests'); });
  const cfg = readConfigFile(join(TINY, 'config.json'));
  for (const kvDtype of KV_DTYPES) {
    it(`loads tiny-k2 fast with a ${kvDtype} cache of the planned size`, async () => {
      const model = await loadBinding().loadModel(TINY, { mode: 'fast', kvDtype, threads: 2, kvBudgetBytes: 8 << 20 });
      const info = model.info();
      expect(info.kvDtype).toBe(kvDtype);
      expect(info.kvBytesPerToken).toBe(kvBytesPerTokenOf(cfg, kvDtype));
      expect(model.cacheStats().bytesPerToken).toBe(info.kvBytesPerToken);
      const r = await model.generate([1, 5, 9, 13], { maxTokens: 3 }, () => {});
      expect(r.outputIds.length).toBe(3);
      model.dispose();
    });
  }

  it('exact mode keeps fp32; an unknown precision is refused', async () => {
    await expect(loadBinding().loadModel(TINY, { mode: 'exact', kvDtype: 'bf16', threads: 2 })).rejects.toThrow(/exact mode keeps the KV cache in fp32/);
    const exact = await loadBinding().loadModel(TINY, { threads: 2, kvBudgetBytes: 8 << 20 });
    expect(exact.info().kvDtype).toBe('fp32');
    exact.dispose();
    // @ts-expect-error: not a KvDtype
    await expect(loadBinding().loadModel(TINY, { mode: 'fast', kvDtype: 'fp16' })).rejects.toThrow(/kvDtype/);
  });
});

// The model panel's facts for a K2.5-packaged checkpoint: read from text_config, the multimodal
// tensors left out of the counts and the plan, the family named, the text-only limitation said.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel, kvBytesPerToken, readConfig, TEXT_ONLY_NOTE } from '../../../main/services/model-inspect.ts';
import { packageAsK25 } from '../../fixtures/k25/package.ts';
import { DEMO_MODEL } from '../text/shared.ts';

describe('inspecting a K2.5 / K2.6 checkpoint', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kk-inspect-k25-'));
    packageAsK25(DEMO_MODEL, join(root, 'Kimi-K2.5-demo'));
    packageAsK25(DEMO_MODEL, join(root, 'Kimi-K2.6-demo'), { quantInText: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('gives the text backbone\'s facts, equal to the unpackaged model\'s', () => {
    const plain = inspectModel(DEMO_MODEL);
    const k25 = inspectModel(join(root, 'Kimi-K2.5-demo'));
    expect(k25.family).toBe('Kimi K2.5');
    expect(k25.limitations).toEqual([TEXT_ONLY_NOTE]);
    expect(k25.architecture).toBe('KimiK25ForConditionalGeneration');
    expect(k25.modelType).toBe('kimi_k25');
    expect(k25.label).toMatch(/Kimi-K2\.5-demo \(\d+M, Kimi K2\.5, text only\)/);
    for (const k of ['params', 'layers', 'denseLayers', 'hidden', 'heads', 'vocab', 'experts', 'quantization', 'contextLength'] as const) {
      expect(k25[k], k).toEqual(plain[k]);
    }
    // The plan counts the text weights only: the packaged copy differs by headers, not by the
    // vision tensors (which the engine never loads).
    expect(Math.abs(k25.memory.weightsBytes - plain.memory.weightsBytes)).toBeLessThan(64 * 1024);
    expect(plain.family).toMatch(/K2-Thinking layout/);
    expect(plain.limitations).toEqual([]);
  });

  it('K2.6 by its name; quantization_config inside text_config; kv size from text_config', () => {
    const k26 = inspectModel(join(root, 'Kimi-K2.6-demo'));
    expect(k26.family).toBe('Kimi K2.6');
    expect(k26.quantization).toMatch(/INT4 routed experts/);
    expect(kvBytesPerToken(readConfig(join(root, 'Kimi-K2.6-demo')))).toBe(kvBytesPerToken(readConfig(DEMO_MODEL)));
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FALLBACK_TEMPERATURE, readGenerationDefaults } from '../../../main/text/generation-config.ts';
import { loadTextModel } from '../../../main/text/index.ts';
import { DEMO_MODEL } from './shared.ts';

const SPECIALS = { '<|im_end|>': 12, '[EOS]': 11, '[BOS]': 10 };

describe('generation defaults', () => {
  it('come from the demo model\'s generation_config.json, stop ids included', async () => {
    const m = await loadTextModel(DEMO_MODEL);
    expect(m.generation).toMatchObject({ temperature: 0.3, topP: 0.9, maxTokens: 256 });
    expect(m.generation.topK).toBeUndefined();
    expect([...m.generation.stopIds].sort()).toEqual([2145, 2146]);
  });

  it('add <|im_end|> and [EOS] to the config eos ids; do_sample false means greedy; defaults without a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kk-gen-'));
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: 99, do_sample: false, temperature: 0.7, top_k: 40 }));
    const g = readGenerationDefaults(dir, SPECIALS);
    expect(g.temperature).toBe(0);
    expect(g.topK).toBe(40);
    expect(g.stopIds.sort((a, b) => a - b)).toEqual([11, 12, 99]);
    const none = readGenerationDefaults(mkdtempSync(join(tmpdir(), 'kk-gen-')), SPECIALS);
    expect(none).toEqual({ temperature: FALLBACK_TEMPERATURE, topP: 1, stopIds: [12, 11] });
  });
});

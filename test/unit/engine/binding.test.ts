// The N-API binding against the real engine and the demo model: async load with progress,
// streaming generation, AbortSignal cancellation, prefix reuse and concurrent generations through
// the engine's scheduler, and errors as JS Errors (never a crash).
import { mkdtempSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBinding } from '../../../main/engine/native.ts';
import { REPO_ROOT } from '../../../main/paths.ts';
import type { NativeModel } from '../../../main/engine/types.ts';
import { chatGoldens } from '../text/shared.ts';
import { requireAddon } from '../../support/engine.ts';

const DEMO = join(REPO_ROOT, 'assets/models/demo-k2');

// A prompt from the demo goldens ("Who are you?" rendered by the chat template).
const greeting = chatGoldens()[0];

describe('native binding', () => {
  beforeAll(() => { requireAddon('the binding tests'); });
  let model: NativeModel;

  it('loads the demo model with progress and describes it', async () => {
    const stages = new Set<string>();
    model = await loadBinding().loadModel(DEMO, { threads: 2 }, (p) => { stages.add(p.stage); expect(p.fraction).toBeGreaterThanOrEqual(0); });
    const info = model.info();
    expect(info.modelType).toBe('kimi_k2');
    expect(info.nLayers).toBe(4);
    expect(info.nExperts).toBe(32);
    expect(info.topK).toBe(4);
    expect(info.nParams).toBeGreaterThan(10_000_000);
    expect(stages.size).toBeGreaterThan(0);
  });

  it('streams the greedy continuation the goldens record', async () => {
    const seen: number[] = [];
    const r = await model.generate(greeting.prompt_ids, { maxTokens: greeting.output_ids.length + 4, stopIds: [2146] }, (id) => seen.push(id));
    expect(r.outputIds).toEqual(seen);
    expect(r.outputIds.slice(0, greeting.output_ids.length)).toEqual(greeting.output_ids);
    expect(r.promptTokens).toBe(greeting.prompt_ids.length);
  });

  it('reports prompt progress per prefill chunk, before the first token, ending at the prompt length', async () => {
    // Longer than one prefill chunk (512 tokens): at least two progress calls.
    const long: number[] = [];
    while (long.length < 600) long.push(...greeting.prompt_ids);
    const order: string[] = [];
    const progress: [number, number][] = [];
    const r = await model.generate(long, { maxTokens: 1, onPrefill: (done, total) => { order.push('prefill'); progress.push([done, total]); } },
      () => order.push('token'));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.every(([, total]) => total === long.length)).toBe(true);
    expect(progress.every(([done], i) => done > (i ? progress[i - 1][0] : 0))).toBe(true);
    expect(progress[progress.length - 1]).toEqual([long.length, long.length]);
    expect(order).toEqual([...progress.map(() => 'prefill'), 'token']);
    expect(r.promptTokens).toBe(long.length);
  });

  it('stops at max tokens with finishReason length', async () => {
    const r = await model.generate(greeting.prompt_ids, { maxTokens: 3 }, () => {});
    expect(r.outputIds).toHaveLength(3);
    expect(r.finishReason).toBe('length');
  });

  it('cancels through an AbortSignal', async () => {
    const ac = new AbortController();
    let n = 0;
    const r = await model.generate(greeting.prompt_ids, { maxTokens: 200, temperature: 1, seed: 7, signal: ac.signal }, () => {
      n += 1;
      if (n === 2) ac.abort();
    });
    expect(r.finishReason).toBe('cancelled');
    expect(r.outputIds.length).toBeLessThan(200);
  });

  it('is reproducible for a seed', async () => {
    const opts = { maxTokens: 12, temperature: 1.0, topP: 0.95, seed: 42 };
    const a = await model.generate(greeting.prompt_ids, opts, () => {});
    const b = await model.generate(greeting.prompt_ids, opts, () => {});
    expect(a.outputIds).toEqual(b.outputIds);
  });

  it('reuses the cached prefix on the next turn, with the answer a fresh prefill gives', async () => {
    const first = await model.generate(greeting.prompt_ids, { maxTokens: 6 }, () => {});
    const next = [...greeting.prompt_ids, ...first.outputIds, ...greeting.prompt_ids.slice(0, 8)];
    const hit = await model.generate(next, { maxTokens: 6 }, () => {});
    // The prompt and the answer's fed tokens (all but the last, sampled one) come from the cache
    // (more where an earlier, longer answer to the same prompt matches the new tokens too).
    expect(hit.cachedTokens).toBeGreaterThanOrEqual(greeting.prompt_ids.length + first.outputIds.length - 1);
    expect(hit.cachedTokens).toBeLessThan(next.length);
    const stats = model.cacheStats();
    expect(stats.cachedTokens).toBeGreaterThan(0);
    expect(stats.hitTokens).toBeGreaterThanOrEqual(hit.cachedTokens);
    expect(stats.bytesPerToken).toBe(model.info().kvBytesPerToken);
    const fresh = await loadBinding().loadModel(DEMO, { threads: 2 });
    try {
      const cold = await fresh.generate(next, { maxTokens: 6 }, () => {});
      expect(cold.cachedTokens).toBe(0);
      expect(hit.outputIds).toEqual(cold.outputIds);
    } finally { fresh.dispose(); }
  });

  it('runs many generations at once (more than libuv\'s 4 worker threads), batched, each as it runs alone', async () => {
    const prompts = Array.from({ length: 7 }, (_, i) => [...greeting.prompt_ids.slice(0, 10 + 3 * i), 100 + i]);
    const alone = [];
    for (const p of prompts) alone.push((await model.generate(p, { maxTokens: 8 }, () => {})).outputIds);
    let maxRunning = 0;
    const together = await Promise.all(prompts.map((p) => model.generate(p, { maxTokens: 8 }, () => {
      maxRunning = Math.max(maxRunning, model.cacheStats().running);
    })));
    expect(together.map((r) => r.outputIds)).toEqual(alone);
    expect(maxRunning).toBeGreaterThan(4);
  });

  it('rejects bad arguments with TypeErrors instead of crashing', async () => {
    await expect(model.generate([], {}, () => {})).rejects.toThrow(/must not be empty/);
    await expect(model.generate([1, -2], {}, () => {})).rejects.toThrow(/non-negative integers/);
    await expect(model.generate([1], { topP: 2 }, () => {})).rejects.toThrow(/out of range/);
  });

  it('rejects a broken checkpoint with an Error naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kk-broken-'));
    cpSync(DEMO, dir, { recursive: true });
    writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), Buffer.from([1, 2, 3]));
    await expect(loadBinding().loadModel(dir, {})).rejects.toThrow(/model-00002-of-00002\.safetensors/);
    await expect(loadBinding().loadModel(join(dir, 'nope'), {})).rejects.toThrow(/config\.json/);
  });

  it('rejects a negative GPU expert budget with an Error naming the option', async () => {
    await expect(loadBinding().loadModel(DEMO, { gpuExpertBudgetBytes: -1 })).rejects.toThrow(/gpuExpertBudgetBytes/);
  });

  it('refuses use after dispose', async () => {
    model.dispose();
    expect(() => model.info()).toThrow(/disposed/);
  });
});

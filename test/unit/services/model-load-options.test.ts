// The settings' backend and GPU expert budget reach the engine's load options (ModelService ->
// EngineHost.load), against a fake host that records what it was asked; the engine process then
// resolves the backend (test/unit/engine/backend-choice.test.ts).
import { describe, expect, it } from 'vitest';
import type { EngineHost, HostStatus } from '../../../main/host/supervisor.ts';
import type { HostLoadOptions } from '../../../main/host/protocol.ts';
import { EventBus } from '../../../main/services/events.ts';
import { BUNDLED_MODELS_DIR, DEMO_MODEL_DIR, ModelService, routingStatsDir, toExpertHeat, type ModelServiceOptions } from '../../../main/services/model-service.ts';

function fakeHost() {
  const loads: HostLoadOptions[] = [];
  let st: HostStatus = { state: 'idle', modelDir: null, info: null, backendWhy: null, progress: null, error: null, pid: null, restarts: 0 };
  const host = {
    onStatus: () => () => {},
    status: () => st,
    load: async (dir: string, options: HostLoadOptions) => {
      loads.push(options);
      st = { ...st, state: 'ready', modelDir: dir, backendWhy: 'CPU: no CUDA driver found (libcuda.so.1 not loadable)' };
      return null;
    },
  };
  return { host: host as unknown as EngineHost, loads };
}

async function loadWith(options: ModelServiceOptions) {
  const f = fakeHost();
  const models = new ModelService(f.host, new EventBus(), options);
  await models.load(DEMO_MODEL_DIR);
  return { loads: f.loads, status: models.status() };
}

describe('load options from the settings', () => {
  it('defaults: backend auto, automatic GPU budget', async () => {
    const { loads, status } = await loadWith({});
    expect(loads).toHaveLength(1);
    expect(loads[0].backend).toBe('auto');
    expect(loads[0].gpuExpertBudgetBytes).toBeUndefined();
    expect(status.backendWhy).toBe('CPU: no CUDA driver found (libcuda.so.1 not loadable)');
  });
  it('a backend and a budget in GiB become the load options (bytes)', async () => {
    const { loads } = await loadWith({ backend: 'cuda', gpuExpertBudgetGiB: 1.5 });
    expect(loads[0].backend).toBe('cuda');
    expect(loads[0].gpuExpertBudgetBytes).toBe(1.5 * 2 ** 30);
  });
  it('routing statistics next to the model, except in the bundled models of the repository', async () => {
    const { loads } = await loadWith({});
    expect(loads[0].routingStatsDir).toBeUndefined();  // the demo model is bundled
    expect(routingStatsDir('/models/Kimi-K2')).toBe('/models/Kimi-K2');
    expect(routingStatsDir(BUNDLED_MODELS_DIR)).toBeUndefined();
    expect(routingStatsDir(`${BUNDLED_MODELS_DIR}-other/x`)).toBe(`${BUNDLED_MODELS_DIR}-other/x`);
  });
});

describe('the expert heat map for the contract', () => {
  it('splits the addon\'s flat layer-major arrays into one row per MoE layer', () => {
    const h = toExpertHeat('cuda', { nLayers: 2, nExperts: 3, counts: [1, 2, 3, 4, 5, 6], onGpu: [true, false, false, false, false, true] });
    expect(h).toEqual({ backend: 'cuda', layers: [{ counts: [1, 2, 3], onGpu: [true, false, false] }, { counts: [4, 5, 6], onGpu: [false, false, true] }] });
    expect(toExpertHeat('cpu', { nLayers: 0, nExperts: 0, counts: [], onGpu: [] })).toEqual({ backend: 'cpu', layers: [] });
  });
});

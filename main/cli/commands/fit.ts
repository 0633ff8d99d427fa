// karakoram fit (DIR | CONFIG.json | OWNER/NAME) [--gpu-mem GB] [--ram GB] [--context N]
//               [--cpu-bw GB/s] [--gpu-bw GB/s] [--kv-dtype fp32|bf16|fp8] [--endpoint URL] [--json]
// (--kv-dtype: the KV cache precision to plan for; exact mode keeps fp32, the default.)
// Will a model run here, before downloading it: GPU-resident weights, hot experts, CPU experts,
// KV cache and the expected decode speed. OWNER/NAME is looked up in the catalog, else its
// config.json is fetched from the hub. --json prints one object (outside checks parse it).
import { existsSync } from 'node:fs';
import { textModelConfig, readConfigFile, type Config } from '../../models/config.ts';
import { catalogEntry } from '../../models/catalog.ts';
import { fitPlan, type Machine } from '../../models/fit.ts';
import { DEFAULT_GPU_BANDWIDTH_GBS, measureRamBandwidthGBs, thisMachine } from '../../models/machine.ts';
import { sizesFromConfig } from '../../models/sizes.ts';
import { isKvDtype, KV_DTYPES } from '../../../common/kv-cache.ts';
import { intOpt, numOpt, parse } from '../args.ts';

const GB = 1e9;
const DEFAULT_CONTEXT = 8192;
const USAGE = 'usage: karakoram fit (DIR | CONFIG.json | OWNER/NAME) [--gpu-mem GB] [--ram GB] [--context N] [--cpu-bw GB/s] [--gpu-bw GB/s] [--kv-dtype fp32|bf16|fp8] [--json]';

async function loadConfig(target: string, endpoint: string): Promise<{ cfg: Config; source: string }> {
  if (existsSync(target)) return { cfg: readConfigFile(target), source: target };
  if (!/^[\w.-]+\/[\w.-]+$/.test(target)) throw new Error(`${target}: no such file or directory, and not OWNER/NAME\n${USAGE}`);
  const entry = catalogEntry(target);
  if (entry) return { cfg: entry.config, source: `catalog: ${entry.repo}` };
  const url = `${endpoint}/${target}/resolve/main/config.json`;
  const token = process.env.HF_TOKEN;
  const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (r.status === 401 || r.status === 403) throw new Error(`${target} is gated or private (HTTP ${r.status}): set HF_TOKEN to a Hugging Face token with access`);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return { cfg: (await r.json()) as Config, source: url };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    'gpu-mem': { type: 'string' }, ram: { type: 'string' }, context: { type: 'string' },
    'cpu-bw': { type: 'string' }, 'gpu-bw': { type: 'string' }, 'kv-dtype': { type: 'string', default: 'fp32' },
    endpoint: { type: 'string', default: process.env.HF_ENDPOINT ?? 'https://huggingface.co' },
    json: { type: 'boolean', default: false },
  });
  const target = positionals[0];
  if (!target) throw new Error(USAGE);
  const { cfg, source } = await loadConfig(target, values.endpoint.replace(/\/$/, ''));
  const tc = textModelConfig(cfg);
  const kvDtype = values['kv-dtype'];
  if (!isKvDtype(kvDtype)) throw new Error(`--kv-dtype must be one of ${KV_DTYPES.join(', ')}, not '${kvDtype}'`);
  const sizes = sizesFromConfig(cfg, kvDtype);
  const given = values['gpu-mem'] !== undefined && values.ram !== undefined && values['cpu-bw'] !== undefined;
  const here = given ? undefined : thisMachine();
  const gpuMem = values['gpu-mem'] !== undefined ? numOpt(values['gpu-mem'], 'gpu-mem', 0) * GB : here!.gpuMemBytes;
  const machine: Machine = {
    gpuMemBytes: gpuMem,
    ramBytes: values.ram !== undefined ? numOpt(values.ram, 'ram', 0) * GB : here!.ramBytes,
    cpuBandwidthGBs: values['cpu-bw'] !== undefined ? numOpt(values['cpu-bw'], 'cpu-bw', 0) : here?.cpuBandwidthGBs ?? measureRamBandwidthGBs(),
    gpuBandwidthGBs: gpuMem > 0 ? numOpt(values['gpu-bw'], 'gpu-bw', DEFAULT_GPU_BANDWIDTH_GBS) : 0,
  };
  if (machine.cpuBandwidthGBs <= 0) throw new Error('--cpu-bw must be positive');
  const context = intOpt(values.context, 'context', DEFAULT_CONTEXT);
  if (context <= 0) throw new Error('--context must be a positive integer');
  const plan = fitPlan(sizes, machine, context);
  if (tc.multimodal) plan.notes.unshift(`${tc.architecture}: the text model is planned; images are not supported yet (the vision tower is skipped).`);
  const out = {
    model: target, source, kv_dtype: kvDtype, architecture: tc.architecture, model_type: tc.modelType, format: sizes.format,
    params: sizes.params, active_params: sizes.activeParams,
    machine: { gpu_mem_bytes: machine.gpuMemBytes, ram_bytes: machine.ramBytes, cpu_bw_gbs: machine.cpuBandwidthGBs, gpu_bw_gbs: machine.gpuBandwidthGBs },
    ...plan,
  };
  if (values.json) { process.stdout.write(`${JSON.stringify(out)}\n`); return 0; }
  const g = (b: number) => `${(b / GB).toFixed(1)} GB`;
  process.stdout.write([
    `${target} (${tc.architecture}, ${sizes.format}, ${(sizes.params / 1e9).toFixed(0)}B params, ${(sizes.activeParams / 1e9).toFixed(1)}B active)`,
    `fits:               ${plan.fits ? 'yes' : 'no'}`,
    `download:           ${g(plan.checkpoint_bytes)}`,
    `GPU resident:       ${g(plan.gpu_resident_bytes)} (${plan.hot_experts}/${plan.total_experts} experts hot)`,
    `CPU experts:        ${g(plan.cpu_expert_bytes)}`,
    `RAM needed:         ${g(plan.ram_needed_bytes)}`,
    `KV cache:           ${g(plan.kv_bytes)} at ${context} tokens`,
    `decode (estimate):  ${plan.expected_decode_tok_s.toFixed(2)} tok/s`,
    ...plan.notes.map((n) => `- ${n}`), '',
  ].join('\n'));
  return 0;
}

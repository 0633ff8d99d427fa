// fit.ts — will a model run on this machine, and how fast: a plan from its sizes (sizes.ts) before
// anything is downloaded. GPU placement mirrors native/src/placement/ (plan.cpp, ranking.cpp): the
// workspace reserve, then every non-expert weight and the KV cache for the chosen context (read
// for every token), then routed experts by traffic saved per byte. Before a model has run there
// are no routing statistics: the flat prior makes every expert worth the same, so the greedy's
// first fit is simply as many experts as the rest of the budget holds, spread evenly over layers.
// Decode speed is the bandwidth model the bench uses (bench.cpp decode_bytes_per_token): a
// batch-1 step reads every non-expert weight (one embedding row), top-k experts per MoE layer and
// the KV cache; time = GPU bytes / GPU bandwidth + CPU bytes / CPU bandwidth (no overlap assumed).
import type { ModelSizes } from './sizes.ts';

/** Kept free on the GPU for activations, scratch and the runtime (cuda_hybrid_moe.cpp kReserveBytes). */
export const GPU_WORKSPACE_BYTES = 2 ** 30;
/** RAM beyond weights and cache: activations, thread pool, the app itself. */
export const RUNTIME_OVERHEAD_BYTES = 2 ** 31;
/** Share of the measured streaming bandwidth a decode step reaches (bench: INT4 GEMV ≥ 85 % of read bandwidth). */
export const BANDWIDTH_EFFICIENCY = 0.85;

export interface Machine {
  gpuMemBytes: number;     // 0: no GPU
  ramBytes: number;
  cpuBandwidthGBs: number; // streaming read, GB/s (1e9)
  gpuBandwidthGBs: number;
  diskFreeBytes?: number;
}

export interface FitPlan {
  fits: boolean;
  context: number;
  checkpoint_bytes: number;
  engine_bytes: number;
  gpu_resident_bytes: number;     // non-expert + KV + workspace (when they fit) + hot experts
  gpu_non_expert_bytes: number;
  hot_experts: number;            // routed experts resident on the GPU, over all layers
  total_experts: number;
  gpu_traffic_share: number;      // share of routed-expert bytes per token served by the GPU
  cpu_expert_bytes: number;       // routed experts left in RAM
  ram_needed_bytes: number;
  kv_bytes: number;               // latent cache at `context`
  kv_bytes_per_token: number;
  bytes_per_token_gpu: number;
  bytes_per_token_cpu: number;
  expected_decode_tok_s: number;
  notes: string[];
}

const GB = 1e9;
const gb = (b: number) => `${(b / GB).toFixed(1)} GB`;

export function fitPlan(s: ModelSizes, m: Machine, context: number): FitPlan {
  const notes: string[] = [];
  const kv = s.kvBytesPerToken * context;
  const totalExperts = s.moeLayers * s.nExperts;
  const routedPerToken = s.moeLayers * s.topK * s.expertBytes;
  const nonExpertPerToken = s.nonExpertBytes - s.embedBytes + s.embedRowBytes;
  const kvPerTokenRead = kv;  // every cached position is read once per step (worst case: a full context)

  // placement: expert_budget(sizes, budget) of ranking.cpp
  const base = s.nonExpertBytes + kv + GPU_WORKSPACE_BYTES;
  const nonExpertOnGpu = m.gpuMemBytes > 0 && m.gpuMemBytes >= base;
  const left = nonExpertOnGpu ? m.gpuMemBytes - base : 0;
  const hot = nonExpertOnGpu && s.expertBytes > 0 ? Math.min(totalExperts, Math.floor(left / s.expertBytes)) : 0;
  const share = totalExperts ? hot / totalExperts : 0;
  const gpuResident = nonExpertOnGpu ? base + hot * s.expertBytes : 0;
  const cpuExperts = (totalExperts - hot) * s.expertBytes;
  // The engine memory-maps the weights; what is not on the GPU is read from RAM every token.
  const ram = cpuExperts + (nonExpertOnGpu ? 0 : s.nonExpertBytes + kv) + RUNTIME_OVERHEAD_BYTES;

  const gpuBytes = nonExpertOnGpu ? nonExpertPerToken + kvPerTokenRead + share * routedPerToken : 0;
  const cpuBytes = (nonExpertOnGpu ? 0 : nonExpertPerToken + kvPerTokenRead) + (1 - share) * routedPerToken;
  const seconds = (m.gpuBandwidthGBs > 0 ? gpuBytes / (m.gpuBandwidthGBs * GB * BANDWIDTH_EFFICIENCY) : 0)
    + cpuBytes / (m.cpuBandwidthGBs * GB * BANDWIDTH_EFFICIENCY);
  const ramFits = ram <= m.ramBytes;
  const fits = ramFits && (m.diskFreeBytes === undefined || m.diskFreeBytes >= s.checkpointBytes);

  if (s.format === 'fp8') {
    notes.push(`Block-FP8 checkpoint (${gb(s.checkpointBytes)} to download): the engine converts its experts to INT4 at load; run kk_convert once after the download to keep an INT4 copy (${gb(s.engineBytes)}) and load that instead.`);
  }
  if (m.gpuMemBytes > 0 && !nonExpertOnGpu) {
    const roomForKv = m.gpuMemBytes - s.nonExpertBytes - GPU_WORKSPACE_BYTES;
    const ctxThatFits = s.kvBytesPerToken > 0 ? Math.floor(roomForKv / s.kvBytesPerToken) : 0;
    notes.push(`The GPU (${gb(m.gpuMemBytes)}) cannot hold the non-expert weights + KV cache + workspace (${gb(base)}), so no expert goes there either: everything runs from RAM. `
      + (ctxThatFits > 0 ? `A context of at most ${ctxThatFits} tokens (--context) would put them on the GPU.` : `Even with no context the non-expert weights need ${gb(s.nonExpertBytes + GPU_WORKSPACE_BYTES)}: a GPU with more memory is needed to help.`));
  } else if (m.gpuMemBytes > 0) {
    notes.push(`GPU holds non-expert weights (${gb(s.nonExpertBytes)}), KV cache (${gb(kv)}) and ${hot} of ${totalExperts} routed experts (${(100 * share).toFixed(1)} % of expert traffic before routing statistics exist; hot experts are chosen by use once the model runs).`);
  } else {
    notes.push('No GPU: every weight is read from RAM.');
  }
  if (!ramFits) {
    notes.push(`Needs ${gb(ram)} of RAM, ${gb(m.ramBytes)} available: weights would page from disk (very slow). Add ${gb(ram - m.ramBytes)} of RAM${m.gpuMemBytes ? '' : ', or a GPU to hold part of the experts'}.`);
  }
  if (m.diskFreeBytes !== undefined && m.diskFreeBytes < s.checkpointBytes) {
    notes.push(`Needs ${gb(s.checkpointBytes)} of disk, ${gb(m.diskFreeBytes)} free.`);
  }
  notes.push(`Decode estimate: ${gpuBytes > 0 ? `${gb(gpuBytes)} per token from GPU memory at ${m.gpuBandwidthGBs} GB/s and ` : ''}${gb(cpuBytes)} per token from RAM at ${m.cpuBandwidthGBs} GB/s, ${Math.round(BANDWIDTH_EFFICIENCY * 100)} % efficiency, batch 1, a full ${context}-token context; compute and PCIe ignored.`);
  return {
    fits, context, checkpoint_bytes: s.checkpointBytes, engine_bytes: s.engineBytes,
    gpu_resident_bytes: gpuResident, gpu_non_expert_bytes: nonExpertOnGpu ? base : 0, hot_experts: hot, total_experts: totalExperts,
    gpu_traffic_share: share, cpu_expert_bytes: cpuExperts, ram_needed_bytes: ram, kv_bytes: kv, kv_bytes_per_token: s.kvBytesPerToken,
    bytes_per_token_gpu: gpuBytes, bytes_per_token_cpu: cpuBytes,
    expected_decode_tok_s: seconds > 0 ? 1 / seconds : 0, notes,
  };
}

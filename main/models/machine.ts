// machine.ts — what this machine offers a model: RAM, the GPU's memory, and a measured streaming
// read bandwidth of RAM. The measurement is one thread of memcmp over buffers far larger than the
// cache (a lower bound: the engine reads with every core; `karakoram bench` measures that).
import { totalmem } from 'node:os';
import { detectGpu } from '../services/model-inspect.ts';
import type { Machine } from './fit.ts';

const PROBE_BYTES = 128 * 2 ** 20;
const PROBE_ROUNDS = 3;
/** Used for a GPU whose bandwidth nobody gave (--gpu-bw): a current workstation card's order of magnitude. */
export const DEFAULT_GPU_BANDWIDTH_GBS = 1000;

export function measureRamBandwidthGBs(): number {
  const a = Buffer.alloc(PROBE_BYTES, 1), b = Buffer.alloc(PROBE_BYTES, 1);
  let best = Infinity;
  for (let i = 0; i < PROBE_ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    a.compare(b);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return Math.round((2 * PROBE_BYTES) / best / 1e9);
}

export function thisMachine(): Machine & { gpuName: string | null; measured: boolean } {
  const gpu = detectGpu();
  return {
    gpuMemBytes: gpu?.totalBytes ?? 0, gpuName: gpu?.name ?? null, ramBytes: totalmem(),
    cpuBandwidthGBs: measureRamBandwidthGBs(), gpuBandwidthGBs: gpu ? DEFAULT_GPU_BANDWIDTH_GBS : 0, measured: true,
  };
}

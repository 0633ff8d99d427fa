// Types for scripts/build-cuda-plugin.mjs (a plain Node script, so `npm run build` needs no tsx).
export const ADDON_DIR: string;
export const PLUGIN_BUILD_DIR: string;
export const PLUGIN_FILE: string;
export type CudaPluginPlan = { build: true; nvcc: string } | { build: false; why: string };
export function cudaPluginPlan(opts?: { env?: Record<string, string | undefined>; platform?: string; find?: (cmd: string) => string | null }): CudaPluginPlan;
export function buildCudaPlugin(
  root: string,
  opts?: { env?: Record<string, string | undefined>; log?: (line: string) => void; plan?: CudaPluginPlan },
): { ok: boolean; built: boolean; why?: string; path?: string };

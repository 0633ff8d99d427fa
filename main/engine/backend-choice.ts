// backend-choice.ts — which compute backend a load uses, and the one line the model panel shows
// about why. Pure: the engine process passes the addon's cudaProbe() result (or a thunk, so a
// "cpu" preference never opens the plugin); tests pass made-up probes.
import type { CudaProbe } from './types.ts';

/** What the settings ask for: 'auto' uses CUDA when the plugin, a driver and a device are found. */
export type BackendPreference = 'auto' | 'cpu' | 'cuda';
export interface BackendChoice { backend: 'cpu' | 'cuda'; why: string }

/** The loader's long message (native/src/backend_cuda/plugin_loader.cpp) as a short reason. */
export function cudaUnavailableReason(probe: CudaProbe): string {
  const r = probe.reason;
  const noDevice = /no CUDA device is usable: (.*)$/s.exec(r);
  if (noDevice) {
    const detail = noDevice[1].trim();
    if (/libcuda\.so|driver/i.test(detail)) return `no CUDA driver found (${/libcuda\.so[.\d]*/.exec(detail)?.[0] ?? 'libcuda.so.1'} not loadable)`;
    return `no usable CUDA device (${detail})`;
  }
  if (/ABI mismatch/.test(r)) return 'the CUDA plugin was built for another engine version (rebuild it: npm run build:cuda)';
  if (/not available/.test(r)) return 'the CUDA plugin is not built (npm run build:cuda; it needs nvcc)';
  return r || 'the CUDA plugin did not load';
}

export function chooseBackend(pref: BackendPreference, probe: CudaProbe | (() => CudaProbe)): BackendChoice {
  if (pref === 'cpu') return { backend: 'cpu', why: 'CPU: chosen in the settings' };
  const p = typeof probe === 'function' ? probe() : probe;
  if (p.usable) {
    const devices = `${p.deviceCount} CUDA device${p.deviceCount === 1 ? '' : 's'}`;
    return { backend: 'cuda', why: `CUDA: ${devices} found (${p.pluginPath})${pref === 'cuda' ? ', as the settings ask' : ''}` };
  }
  const reason = cudaUnavailableReason(p);
  return { backend: 'cpu', why: pref === 'cuda' ? `CPU: CUDA was asked for, but ${reason}` : `CPU: ${reason}` };
}

/** After a CUDA load failed (the probe said yes): the CPU retry's reason. */
export function cudaLoadFailed(message: string): BackendChoice {
  return { backend: 'cpu', why: `CPU: loading on CUDA failed (${message})` };
}

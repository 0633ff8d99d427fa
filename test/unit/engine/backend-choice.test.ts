// Which backend a load uses and why (main/engine/backend-choice.ts): the choice with made-up
// probes for every case — the GPU case included, since no GPU is here — and the real addon's
// probe on this machine, whose answer the choice must turn into a load that works.
import { describe, expect, it } from 'vitest';
import { chooseBackend, cudaLoadFailed, cudaUnavailableReason } from '../../../main/engine/backend-choice.ts';
import { loadBinding } from '../../../main/engine/native.ts';
import type { CudaProbe } from '../../../main/engine/types.ts';
import { requireAddon } from '../../support/engine.ts';

const NO_DRIVER: CudaProbe = {
  usable: false, deviceCount: 0, pluginPath: '',
  reason: 'CUDA plugin /x/libkk_cuda.so loaded, but no CUDA device is usable: no NVIDIA driver (libcuda.so.1 not found); cudaGetDeviceCount: cudaErrorInsufficientDriver',
};
const NO_PLUGIN: CudaProbe = { usable: false, deviceCount: 0, pluginPath: '', reason: 'CUDA plugin libkk_cuda.so not available (build with cmake -DKK_CUDA=ON, or set KK_CUDA_PLUGIN); tried:\n  /x: not found' };
const OLD_PLUGIN: CudaProbe = { usable: false, deviceCount: 0, pluginPath: '', reason: 'CUDA plugin /x/libkk_cuda.so was built for another engine version (ABI mismatch)' };
const NO_DEVICE: CudaProbe = { usable: false, deviceCount: 0, pluginPath: '', reason: 'CUDA plugin /x/libkk_cuda.so loaded, but no CUDA device is usable: cudaErrorNoDevice' };
const ONE_GPU: CudaProbe = { usable: true, deviceCount: 1, pluginPath: '/x/libkk_cuda.so', reason: 'CUDA plugin /x/libkk_cuda.so, 1 device' };

describe('choosing the backend', () => {
  it('auto: CUDA when the plugin, a driver and a device are found', () => {
    expect(chooseBackend('auto', ONE_GPU)).toEqual({ backend: 'cuda', why: 'CUDA: 1 CUDA device found (/x/libkk_cuda.so)' });
    expect(chooseBackend('auto', { ...ONE_GPU, deviceCount: 2 }).why).toContain('2 CUDA devices');
  });
  it('auto: the CPU otherwise, with a short reason for each way CUDA is missing', () => {
    expect(chooseBackend('auto', NO_DRIVER)).toEqual({ backend: 'cpu', why: 'CPU: no CUDA driver found (libcuda.so.1 not loadable)' });
    expect(chooseBackend('auto', NO_PLUGIN).why).toBe('CPU: the CUDA plugin is not built (npm run build:cuda; it needs nvcc)');
    expect(chooseBackend('auto', OLD_PLUGIN).why).toContain('another engine version');
    expect(chooseBackend('auto', NO_DEVICE).why).toBe('CPU: no usable CUDA device (cudaErrorNoDevice)');
  });
  it('cpu in the settings: never opens the plugin', () => {
    let probed = false;
    expect(chooseBackend('cpu', () => { probed = true; return ONE_GPU; })).toEqual({ backend: 'cpu', why: 'CPU: chosen in the settings' });
    expect(probed).toBe(false);
  });
  it('cuda in the settings but none here: the CPU, saying CUDA was asked for', () => {
    expect(chooseBackend('cuda', NO_DRIVER).why).toBe('CPU: CUDA was asked for, but no CUDA driver found (libcuda.so.1 not loadable)');
    expect(chooseBackend('cuda', ONE_GPU).backend).toBe('cuda');
  });
  it('a CUDA load that failed says so', () => {
    expect(cudaLoadFailed('out of memory')).toEqual({ backend: 'cpu', why: 'CPU: loading on CUDA failed (out of memory)' });
  });
  it('an unknown loader message is passed on whole', () => {
    expect(cudaUnavailableReason({ ...NO_DRIVER, reason: 'something new' })).toBe('something new');
  });
});

describe('the real probe (the addon)', () => {
  it('answers with a reason, and the choice follows it', () => {
    requireAddon('the CUDA probe');
    const probe = loadBinding().cudaProbe();
    expect(probe.reason.length).toBeGreaterThan(0);
    const choice = chooseBackend('auto', probe);
    if (probe.usable) {
      expect(probe.deviceCount).toBeGreaterThan(0);
      expect(choice.backend).toBe('cuda');
    } else {
      expect(probe.deviceCount).toBe(0);
      expect(choice.backend).toBe('cpu');
      expect(choice.why).toMatch(/^CPU: \S/);
    }
  });
});

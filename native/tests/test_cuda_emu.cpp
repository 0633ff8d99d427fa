// test_cuda_emu.cpp — the CUDA kernels' backend-ops suite (cuda_ops_suite.h) on the CPU emulator:
// kernels/cuda/*.cu and the plugin table compiled by the C++ compiler against
// native/tests/cuda_emu/cuda_runtime.h (threads as fibers, barriers and shuffles emulated). Checks
// the kernels' indexing, arithmetic, barriers and launch limits in CI, where there is no GPU; the
// real-GPU run of the same suite is test_cuda_ops.
#include <cstdio>

#include "cuda_ops_suite.h"

extern "C" const kk_cuda_plugin* kk_cuda_plugin_get(int abi_version);

int main() {
  const kk_cuda_plugin* api = kk_cuda_plugin_get(KK_CUDA_PLUGIN_ABI);
  if (!api || api->device_count() != 1) {
    std::printf("test_cuda_emu: emulated plugin unavailable\n");
    return 1;
  }
  const int failures = cuda_ops_suite::run(api, /*quick=*/true);
  if (failures) {
    std::printf("test_cuda_emu: %d failure(s)\n", failures);
    return 1;
  }
  std::printf("test_cuda_emu: all emulated CUDA kernels match the CPU reference\n");
  return 0;
}

// test_cuda_ops.cpp — the CUDA plugin's backend-ops suite (cuda_ops_suite.h) on a real GPU: every
// CUDA op against the CPU plain path on random inputs, odd sizes included. Skips (exit 77) with the
// reason when the plugin, the CUDA driver or a device is missing — as in CI, which compiles the
// CUDA code and runs the same kernels on the CPU emulator instead (test_cuda_emu.cpp).
#include <cstdio>

#include "backend_loader/cuda_loader.h"
#include "cuda_ops_suite.h"

int main() {
  kk::cuda::Plugin plugin;
  const kk::Status st = kk::cuda::load_plugin(&plugin);
  if (!st.ok()) {
    std::printf("SKIP test_cuda_ops: %s\n", st.message().c_str());
    return 77;
  }
  kk_cuda_device_info info;
  if (plugin.api->set_device(0) != 0 || plugin.api->device_info(0, &info) != 0) {
    std::printf("SKIP test_cuda_ops: device 0 unusable: %s\n", plugin.api->last_error());
    return 77;
  }
  std::printf("CUDA plugin %s on %s (sm_%d%d, %d SMs)\n", plugin.path.c_str(), info.name, info.cc_major,
              info.cc_minor, info.sm_count);
  const int failures = cuda_ops_suite::run(plugin.api, /*quick=*/false);
  if (failures) {
    std::printf("test_cuda_ops: %d failure(s)\n", failures);
    return 1;
  }
  std::printf("test_cuda_ops: all CUDA ops match the CPU reference\n");
  return 0;
}

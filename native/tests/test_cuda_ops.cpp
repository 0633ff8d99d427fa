// test_cuda_ops.cpp — the CUDA plugin's backend-ops suite (cuda_ops_suite.h) on a real GPU: every
// CUDA op against the CPU plain path on random inputs, odd sizes included. Skips (exit 77) with the
// reason when the plugin, the CUDA driver or a device is missing — as in CI, which compiles the
// CUDA code and runs the same kernels on the CPU emulator instead (test_cuda_emu.cpp). Then the
// engine's "cuda" backend with a hybrid MoE split, on tiny-k2 against the HF reference.
#include <cstdio>

#include <cstdlib>
#include <string>

#include "backend_cuda/backend_cuda.h"
#include "backend_cuda/plugin_loader.h"
#include "cuda_ops_suite.h"
#include "tiny_k2_forward.h"

namespace {

// The engine's "cuda" backend on this GPU: tiny-k2 prompt 0 and a few decode steps against the HF
// reference, with the expert budget cut to 20 slots so the hybrid MoE splits layers between GPU and
// CPU, then re-placement and more decoding. Returns failures.
int engine_on_gpu() {
  using namespace tiny_k2_forward;
  if (!have_tiny_k2()) {
    std::printf("(engine check skipped: no %s)\n", tiny_k2_dir().c_str());
    return 0;
  }
  const int before = kk_test::failures();
  setenv("KK_CUDA_EXPERT_BUDGET_BYTES", std::to_string(20LL * 3 * 64 * 256 / 32 * 18).c_str(), 1);
  Reference ref;
  const kk::Status st = load_reference(&ref);
  CHECK(st.ok(), "reference: %s", st.message().c_str());
  auto e = load_cuda_engine();
  if (!st.ok() || !e) return kk_test::failures() - before;
  kk::SeqId s = -1;
  const double perr = prefill(*e, ref, &s);
  CHECK(perr <= kExactLogitTol, "engine prefill on the GPU: max |logit err| %.3g", perr);
  CHECK(kk::cuda_backend_replace_experts().ok(), "re-placement");
  const double derr = decode(*e, ref, s, 0, 4);
  CHECK(derr <= kExactLogitTol, "engine decode on the GPU: max |logit err| %.3g", derr);
  const kk::CudaBackendCounts c = kk::cuda_backend_counts();
  CHECK(c.cpu_fallbacks == 0 && c.moe_gpu_pairs > 0 && c.moe_cpu_pairs > 0,
        "fallbacks %lld, MoE pairs gpu %lld cpu %lld", (long long)c.cpu_fallbacks, (long long)c.moe_gpu_pairs,
        (long long)c.moe_cpu_pairs);
  std::printf("%-5s engine (tiny-k2, hybrid MoE)  prefill err %.3g, decode err %.3g, device ops %lld, "
              "MoE pairs gpu/cpu %lld/%lld, experts swapped %lld\n",
              kk_test::failures() == before ? "ok" : "FAIL", perr, derr, (long long)c.device_ops,
              (long long)c.moe_gpu_pairs, (long long)c.moe_cpu_pairs, (long long)c.expert_evictions);
  e->free_sequence(s);
  return kk_test::failures() - before;
}

}  // namespace

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
  const int failures = cuda_ops_suite::run(plugin.api, /*quick=*/false) + engine_on_gpu();
  if (failures) {
    std::printf("test_cuda_ops: %d failure(s)\n", failures);
    return 1;
  }
  std::printf("test_cuda_ops: all CUDA ops match the CPU reference\n");
  return 0;
}

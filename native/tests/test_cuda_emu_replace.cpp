// test_cuda_emu_replace.cpp — re-placement during use, on the emulated plugin: after a request
// ends and nothing else runs, the engine's scheduler moves the hot experts towards the live
// routing statistics (EngineImpl::between_requests -> cuda_backend_replace_experts, bounded in
// bytes). The even spread at load ignores use, so the prompt's experts must move in; greedy
// generation matches the reference before and after.
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "backend_cuda/backend_cuda.h"
#include "tiny_k2_forward.h"

using namespace tiny_k2_forward;

namespace {
constexpr int kSlots = 12;
constexpr long long kExpertBytes = 3LL * 64 * 256 / 32 * 18;  // tiny-k2: moe_intermediate 64, hidden 256
// The re-placement runs on the scheduler's thread right after the request; the emulator is slow,
// so wait generously for it (this is not a speed check).
constexpr int kWaitMs = 60000;

bool generate_matches(kk::Engine& e, const Reference& ref, int n) {
  kk::SamplingParams sp;
  sp.max_tokens = n;
  kk::GenerateResult res;
  const kk::Status st = e.generate(ref.ids, sp, nullptr, &res);
  CHECK(st.ok(), "generate: %s", st.message().c_str());
  bool same = st.ok() && int(res.output_ids.size()) == n;
  for (int i = 0; same && i < n; ++i) same = res.output_ids[size_t(i)] == ref.greedy[size_t(i)];
  CHECK(same, "greedy output differs from the reference");
  return same;
}
}  // namespace

int main() {
  if (!have_tiny_k2()) { std::printf("skip: no %s\n", tiny_k2_dir().c_str()); return KK_TEST_SKIP; }
  // The emulated plugin, unless KK_CUDA_PLUGIN names another (docs/cuda.md's GPU command runs these
  // same checks on a device with the real libkk_cuda.so).
  setenv("KK_CUDA_PLUGIN", KK_CUDA_EMU_PLUGIN, 0);
  Reference ref;
  const kk::Status st = load_reference(&ref);
  CHECK(st.ok(), "reference: %s", st.message().c_str());
  auto e = load_cuda_engine(kSlots * kExpertBytes);
  if (!st.ok() || !e) return kk_test::finish("test_cuda_emu_replace");

  const kk::CudaBackendCounts c0 = kk::cuda_backend_counts();
  generate_matches(*e, ref, 2);
  kk::CudaBackendCounts c = kk::cuda_backend_counts();
  for (int waited = 0; c.expert_evictions == c0.expert_evictions && waited < kWaitMs; waited += 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    c = kk::cuda_backend_counts();
  }
  const long long moved = (long long)(c.expert_evictions - c0.expert_evictions);
  CHECK(moved > 0, "no re-placement after the request (evictions %lld)", moved);
  CHECK(c.expert_slots == kSlots, "slots %lld", (long long)c.expert_slots);
  std::printf("after the request: %lld experts re-placed in the background\n", moved);
  generate_matches(*e, ref, 3);
  return kk_test::finish("test_cuda_emu_replace");
}

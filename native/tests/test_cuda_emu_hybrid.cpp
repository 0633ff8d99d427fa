// test_cuda_emu_hybrid.cpp — the hybrid MoE step (cuda_hybrid_moe.h) end to end on the emulated
// plugin: a VRAM budget (LoadOptions::gpu_expert_budget_bytes) of 20 expert slots for tiny-k2's
// 3 x 16 experts, spread over the layers at load, splits every layer between GPU and CPU. Logits
// must still match the HF reference at the exact-mode tolerance; then re-placement from the routing statistics
// of the prompt moves experts, and decoding through the new hot set must match too.
#include <cstdlib>
#include <string>

#include "backend_cuda/backend_cuda.h"
#include "tiny_k2_forward.h"

using namespace tiny_k2_forward;

namespace {
constexpr int kSlots = 20;
constexpr long long kExpertBytes = 3LL * 64 * 256 / 32 * 18;  // tiny-k2: moe_intermediate 64, hidden 256
}  // namespace

int main() {
  if (!have_tiny_k2()) { std::printf("skip: no %s\n", tiny_k2_dir().c_str()); return KK_TEST_SKIP; }
  setenv("KK_CUDA_PLUGIN", KK_CUDA_EMU_PLUGIN, 1);
  Reference ref;
  const kk::Status st = load_reference(&ref);
  CHECK(st.ok(), "reference: %s", st.message().c_str());
  auto e = load_cuda_engine(kSlots * kExpertBytes);
  if (!st.ok() || !e) return kk_test::finish("test_cuda_emu_hybrid");

  kk::SeqId s = -1;
  const double perr = prefill(*e, ref, &s);
  CHECK(perr <= kExactLogitTol, "hybrid prefill max |logit err| %.3g", perr);
  kk::CudaBackendCounts c = kk::cuda_backend_counts();
  // The hot set at load (no saved statistics): the 20 slots spread over the 3 MoE layers, no churn.
  CHECK(c.expert_slots == kSlots && c.expert_uploads == kSlots && c.expert_evictions == 0,
        "slots %lld, uploads %lld, evictions %lld", (long long)c.expert_slots, (long long)c.expert_uploads,
        (long long)c.expert_evictions);
  CHECK(c.moe_gpu_pairs > 0 && c.moe_cpu_pairs > 0, "MoE pairs gpu %lld cpu %lld: not a hybrid split",
        (long long)c.moe_gpu_pairs, (long long)c.moe_cpu_pairs);
  std::printf("prefill (hybrid) err %.3g: MoE pairs on the GPU %lld, on the CPU %lld\n", perr,
              (long long)c.moe_gpu_pairs, (long long)c.moe_cpu_pairs);

  // The even spread ignored use; the prompt's used experts are now far hotter than idle residents.
  const kk::Status rs = kk::cuda_backend_replace_experts();
  CHECK(rs.ok(), "replace: %s", rs.message().c_str());
  const kk::CudaBackendCounts c2 = kk::cuda_backend_counts();
  CHECK(c2.expert_evictions > 0 && c2.expert_uploads - c.expert_uploads == c2.expert_evictions,
        "re-placement: %lld uploads, %lld evictions", (long long)(c2.expert_uploads - c.expert_uploads),
        (long long)c2.expert_evictions);
  std::printf("re-placement: %lld experts swapped\n", (long long)c2.expert_evictions);

  const double derr = decode(*e, ref, s, 0, 4);
  CHECK(derr <= kExactLogitTol, "hybrid decode max |logit err| %.3g", derr);
  const kk::CudaBackendCounts c3 = kk::cuda_backend_counts();
  CHECK(c3.cpu_fallbacks == 0, "CPU fallbacks %lld", (long long)c3.cpu_fallbacks);
  std::printf("decode after re-placement err %.3g: MoE pairs on the GPU %lld, on the CPU %lld\n", derr,
              (long long)(c3.moe_gpu_pairs - c.moe_gpu_pairs), (long long)(c3.moe_cpu_pairs - c.moe_cpu_pairs));
  e->free_sequence(s);

  // Another load with a smaller budget rebuilds the slab at that size (the option, not the
  // environment), and the forward through it is still exact.
  constexpr int kSmallSlots = 10;
  auto e2 = load_cuda_engine(kSmallSlots * kExpertBytes);
  if (!e2) return kk_test::finish("test_cuda_emu_hybrid");
  kk::SeqId s2 = -1;
  const double perr2 = prefill(*e2, ref, &s2);
  CHECK(perr2 <= kExactLogitTol, "prefill after the budget change max |logit err| %.3g", perr2);
  const kk::CudaBackendCounts c4 = kk::cuda_backend_counts();
  CHECK(c4.expert_slots == kSmallSlots, "slots after a load with a %d-slot budget: %lld", kSmallSlots,
        (long long)c4.expert_slots);
  std::printf("budget %d slots: err %.3g, slots %lld\n", kSmallSlots, perr2, (long long)c4.expert_slots);
  e2->free_sequence(s2);
  return kk_test::finish("test_cuda_emu_hybrid");
}

// test_cuda_emu_eval.cpp — the engine's "cuda" backend end to end, on the CPU emulator of the
// CUDA kernels: tiny-k2 is loaded with backend "cuda" through the real run-time loader (dlopen of
// the emulated plugin, KK_CUDA_PLUGIN) and its prefill logits and teacher-forced decode logits
// must match the HF reference at the exact-mode tolerance, like the CPU backend, with every
// claimed op run on the device. (Prompt 0 and a few decode steps: the emulator runs GPU threads as
// fibers. The full eval: `KK_CUDA_PLUGIN=build/native/libkk_cuda_emu.so kk_eval ... --backend cuda`.)
#include <cstdlib>

#include "backend_cuda/backend_cuda.h"
#include "tiny_k2_forward.h"

using namespace tiny_k2_forward;

int main() {
  if (!have_tiny_k2()) { std::printf("skip: no %s\n", tiny_k2_dir().c_str()); return KK_TEST_SKIP; }
  setenv("KK_CUDA_PLUGIN", KK_CUDA_EMU_PLUGIN, 1);
  Reference ref;
  const kk::Status st = load_reference(&ref);
  CHECK(st.ok(), "reference: %s", st.message().c_str());
  auto e = load_cuda_engine();
  if (!st.ok() || !e) return kk_test::finish("test_cuda_emu_eval");

  kk::SeqId s = -1;
  const double perr = prefill(*e, ref, &s);
  CHECK(perr <= kExactLogitTol, "prefill max |logit err| %.3g", perr);
  const double derr = decode(*e, ref, s, 0, 3);
  CHECK(derr <= kExactLogitTol, "decode max |logit err| %.3g", derr);
  const kk::CudaBackendCounts c = kk::cuda_backend_counts();
  // Every claimed op ran on the (emulated) device; the default budget holds every expert.
  CHECK(c.device_ops > 0 && c.cpu_fallbacks == 0, "device ops %lld, CPU fallbacks %lld", (long long)c.device_ops,
        (long long)c.cpu_fallbacks);
  CHECK(c.moe_gpu_pairs > 0 && c.moe_cpu_pairs == 0, "MoE pairs gpu %lld cpu %lld", (long long)c.moe_gpu_pairs,
        (long long)c.moe_cpu_pairs);
  std::printf("prefill err %.3g, decode err %.3g; device ops %lld, CPU fallbacks %lld, MoE pairs on the GPU %lld\n",
              perr, derr, (long long)c.device_ops, (long long)c.cpu_fallbacks, (long long)c.moe_gpu_pairs);
  e->free_sequence(s);
  return kk_test::finish("test_cuda_emu_eval");
}

// kernels.h — the CPU micro-kernels, one table per instruction-set variant.
// `plain` is portable C++ and the oracle every other variant is tested against
// (native/tests/test_backend_ops.cpp). The best variant is picked once from cpuid.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "kk_blocks.h"

namespace kk::cpu {

// Every kernel computes rows [r0, r1) of y for all n tokens:
//   y[t * ldy + r] = Σ_c W[r][c] · x[t * ldx + c]
// W is `cols` wide (a multiple of 32 for q4). Kernels never allocate and never spawn threads.
struct Kernels {
  const char* name;  // "plain", "avx2", "avx512", "avx512_vnni", "avx512_vnni_amx"
  void (*q4_f32)(const block_q4* W, int64_t cols, int64_t r0, int64_t r1,
                 const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy);
  // Fast mode: activations pre-quantized to block_q8 rows of cols/32 blocks each.
  void (*q4_q8)(const block_q4* W, int64_t cols, int64_t r0, int64_t r1,
                const block_q8* xq, int64_t n, float* y, int64_t ldy);
  void (*bf16_f32)(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1,
                   const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy);
  void (*f32_f32)(const float* W, int64_t cols, int64_t r0, int64_t r1,
                  const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy);
  // x[cols] -> cols/32 blocks.
  void (*quantize_q8)(const float* x, int64_t cols, block_q8* out);
  // Q4 repacked in groups of 16 rows (block_q4x16): groups [g0, g1), i.e. rows [16·g0, 16·g1),
  // each group cols/32 blocks. Same math as q4_f32 / q4_q8.
  void (*q4x16_f32)(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1,
                    const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy);
  void (*q4x16_q8)(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1,
                   const block_q8* xq, int64_t n, float* y, int64_t ldy);
  // Whether this variant's q4x16 kernels are its own SIMD code (faster than its q4 ones), so
  // the engine repacks Q4 weights at load; otherwise they are the plain ones and it does not.
  bool q4x16_native;
  // Fast mode, bf16 weights, prefill: activations as two bf16 digits (oracle: bf16_bf16_plain),
  // so that tile units can multiply them. Null where the variant has none (bf16_f32 serves).
  void (*bf16_fast)(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1,
                    const float* x, int64_t ldx, int64_t n, float* y, int64_t ldy) = nullptr;
};

const Kernels& kernels_plain();
// All variants this CPU can run (plain first), after a guarded probe for each.
std::vector<const Kernels*> kernels_available();
// Variants whose instruction sets cpuid reports but whose probe did not reproduce plain (or
// trapped): they are left out silently at run time; tests assert there are none.
std::vector<std::string> kernels_probe_failures();
// The fastest available variant (override with env KK_CPU_KERNELS=plain|avx2|avx512|...).
const Kernels& kernels_best();

}  // namespace kk::cpu

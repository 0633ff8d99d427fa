// weight_view.h — one 2-D weight matrix (a Tensor, or one expert of a stacked tensor) and the
// row-range matmul every CPU op builds on. Internal to the CPU backend.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "cpu/kernels.h"

namespace kk::cpu {

struct WeightView {
  DType type = DType::F32;
  const void* data = nullptr;
  int64_t rows = 0, cols = 0;
  const float* fp8_scale_inv = nullptr;  // F8_E4M3: [ceil(rows/128)][ceil(cols/128)] of this matrix
};

// The whole tensor as one matrix (a stacked [E, r, c] tensor as E*r rows).
WeightView view_of(const Tensor& W);
// Expert e of a stacked [E, r, c] tensor.
WeightView expert_view(const Tensor& W, int64_t e);

// Activations as the kernels want them for W: fp32 rows, and (fast mode with Q4 weights) the
// same rows quantized to block_q8.
struct Activations {
  const float* x = nullptr;
  int64_t ldx = 0;
  const block_q8* xq = nullptr;  // n rows of cols/32 blocks, or null
  bool fast = false;             // fast mode: bf16 weights may take Kernels::bf16_fast
};

// y[t*ldy + r] = Σ_c W[r][c]·x[t][c] for r in [r0, r1), t < n. Uses xq for Q4 weights when set.
// F16 and F8 rows are widened to fp32 through `scratch` (resized as needed) one row at a time.
void matmul_rows(const Kernels& k, const WeightView& W, const Activations& a, int64_t n,
                 float* y, int64_t ldy, int64_t r0, int64_t r1, std::vector<float>& scratch);

// Rows per parallel grain for W: about kGrainBytes of weights, a multiple of 16 rows.
int64_t row_grain(const WeightView& W);

// fp8 e4m3 (no inf; 0x7f/0xff are NaN) to fp32.
float fp8_e4m3_to_f32(uint8_t v);

}  // namespace kk::cpu

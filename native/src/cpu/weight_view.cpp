// weight_view.cpp — row-range matmul over any weight dtype, on top of the micro-kernels.
#include "cpu/weight_view.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace kk::cpu {

namespace {
// A parallel grain of weights: small enough that 8 experts x 2 matrices split into many grains
// for a dynamic scheduler, big enough that per-grain overhead (a few hundred ns) is noise.
constexpr int64_t kGrainBytes = 128 * 1024;
constexpr int64_t kGrainRowMultiple = 16;
}  // namespace

WeightView view_of(const Tensor& W) {
  WeightView v;
  v.type = W.type;
  v.data = W.data;
  v.rows = W.rows();
  v.cols = W.cols();
  v.fp8_scale_inv = W.fp8_scale_inv;
  return v;
}

WeightView expert_view(const Tensor& W, int64_t e) {
  WeightView v;
  v.type = W.type;
  const int64_t per = W.shape.size() == 3 ? W.shape[1] : W.rows();
  v.rows = per;
  v.cols = W.cols();
  v.data = static_cast<const uint8_t*>(W.data) + e * per * int64_t(dtype_row_bytes(W.type, v.cols));
  if (W.fp8_scale_inv) {
    const int64_t tiles = ((per + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK) *
                          ((v.cols + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK);
    v.fp8_scale_inv = W.fp8_scale_inv + e * tiles;
  }
  return v;
}

float fp8_e4m3_to_f32(uint8_t v) {
  const uint32_t sign = v >> 7, exp = (v >> 3) & 0xf, mant = v & 0x7;
  float f;
  if (exp == 0xf && mant == 0x7) {
    f = NAN;
  } else if (exp == 0) {
    f = std::ldexp(float(mant), -9);  // subnormal: mant/8 * 2^-6
  } else {
    f = std::ldexp(1.f + float(mant) / 8.f, int(exp) - 7);
  }
  return sign ? -f : f;
}

namespace {
// Q4X16 kernels compute whole groups of 16 rows. Aligned ranges (what row_grain hands out) go
// straight to y; a partial group at either end is computed into scratch and its rows copied.
void q4x16_rows(const Kernels& k, const WeightView& W, const Activations& a, int64_t n, float* y,
                int64_t ldy, int64_t r0, int64_t r1, std::vector<float>& scratch) {
  const block_q4x16* Wq = static_cast<const block_q4x16*>(W.data);
  const int64_t nb = W.cols / KK_Q4_GROUP;
  auto groups = [&](const block_q4x16* Wg, int64_t g0, int64_t g1, float* out, int64_t ldo) {
    if (a.xq) k.q4x16_q8(Wg, W.cols, g0, g1, a.xq, n, out, ldo);
    else k.q4x16_f32(Wg, W.cols, g0, g1, a.x, a.ldx, n, out, ldo);
  };
  auto partial = [&](int64_t g, int64_t lo, int64_t hi) {  // rows [lo, hi) of group g
    if (int64_t(scratch.size()) < n * KK_Q4X16_ROWS) scratch.resize(n * KK_Q4X16_ROWS);
    groups(Wq + g * nb, 0, 1, scratch.data(), KK_Q4X16_ROWS);  // group g alone, as group 0
    for (int64_t t = 0; t < n; ++t)
      for (int64_t r = lo; r < hi; ++r) y[t * ldy + r] = scratch[t * KK_Q4X16_ROWS + (r - g * KK_Q4X16_ROWS)];
  };
  int64_t g0 = r0 / KK_Q4X16_ROWS;
  const int64_t g1 = r1 / KK_Q4X16_ROWS;
  if (r0 % KK_Q4X16_ROWS) {
    partial(g0, r0, std::min(r1, (g0 + 1) * KK_Q4X16_ROWS));
    ++g0;
  }
  if (g0 < g1) groups(Wq, g0, g1, y, ldy);
  if (r1 % KK_Q4X16_ROWS && g1 >= g0) partial(g1, std::max(r0, g1 * KK_Q4X16_ROWS), r1);
}
}  // namespace

int64_t row_grain(const WeightView& W) {
  const int64_t row_bytes = std::max<int64_t>(1, int64_t(dtype_row_bytes(W.type, W.cols)));
  int64_t g = kGrainBytes / row_bytes;
  g = std::max<int64_t>(kGrainRowMultiple, (g / kGrainRowMultiple) * kGrainRowMultiple);
  return g;
}

void matmul_rows(const Kernels& k, const WeightView& W, const Activations& a, int64_t n,
                 float* y, int64_t ldy, int64_t r0, int64_t r1, std::vector<float>& scratch) {
  if (r0 >= r1 || n <= 0) return;
  const int64_t cols = W.cols;
  switch (W.type) {
    case DType::F32:
      k.f32_f32(static_cast<const float*>(W.data), cols, r0, r1, a.x, a.ldx, n, y, ldy);
      return;
    case DType::BF16:
      if (a.fast && k.bf16_fast)  // the kernel itself sends batches too small for tiles to AVX-512
        k.bf16_fast(static_cast<const uint16_t*>(W.data), cols, r0, r1, a.x, a.ldx, n, y, ldy);
      else
        k.bf16_f32(static_cast<const uint16_t*>(W.data), cols, r0, r1, a.x, a.ldx, n, y, ldy);
      return;
    case DType::Q4:
      if (a.xq) k.q4_q8(static_cast<const block_q4*>(W.data), cols, r0, r1, a.xq, n, y, ldy);
      else k.q4_f32(static_cast<const block_q4*>(W.data), cols, r0, r1, a.x, a.ldx, n, y, ldy);
      return;
    case DType::Q4X16:
      q4x16_rows(k, W, a, n, y, ldy, r0, r1, scratch);
      return;
    case DType::F16:
    case DType::F8_E4M3: {
      // Widen one row at a time, then run the f32 kernel on it (row 0 of a 1-row matrix whose
      // output column is r).
      if (int64_t(scratch.size()) < cols) scratch.resize(cols);
      const int64_t col_tiles = (cols + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK;
      for (int64_t r = r0; r < r1; ++r) {
        if (W.type == DType::F16) {
          const uint16_t* src = static_cast<const uint16_t*>(W.data) + r * cols;
          for (int64_t c = 0; c < cols; ++c) scratch[c] = f16_to_f32(src[c]);
        } else {
          const uint8_t* src = static_cast<const uint8_t*>(W.data) + r * cols;
          const float* s = W.fp8_scale_inv ? W.fp8_scale_inv + (r / KK_FP8_BLOCK) * col_tiles : nullptr;
          for (int64_t c = 0; c < cols; ++c)
            scratch[c] = fp8_e4m3_to_f32(src[c]) * (s ? s[c / KK_FP8_BLOCK] : 1.f);
        }
        k.f32_f32(scratch.data(), cols, 0, 1, a.x, a.ldx, n, y + r, ldy);
      }
      return;
    }
    default:
      return;  // I32/I64 are not matrices; callers validate dtypes at load.
  }
}

}  // namespace kk::cpu

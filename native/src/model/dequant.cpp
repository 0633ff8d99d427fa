// dequant.cpp — scalar dequantization; not on any hot path.
#include "model/dequant.h"
#include <cmath>
#include <cstring>
#include <vector>

#include "core/q4x16.h"

namespace kk {
namespace {

// e4m3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits.
float e4m3_to_f32(uint8_t v) {
  const int sign = v >> 7, exp = (v >> 3) & 0xF, man = v & 7;
  float f;
  if (exp == 0xF && man == 7) f = NAN;                          // e4m3fn: no infinities
  else if (exp == 0) f = std::ldexp(float(man) / 8.f, -6);      // subnormal
  else f = std::ldexp(1.f + float(man) / 8.f, exp - 7);
  return sign ? -f : f;
}

}  // namespace

bool dequantize_rows(const Tensor& W, int64_t r0, int64_t r1, float* out) {
  const int64_t cols = W.cols();
  const uint8_t* base = static_cast<const uint8_t*>(W.data);
  const size_t row_bytes = dtype_row_bytes(W.type, cols);
  std::vector<block_q4> unpacked;  // Q4X16: one row unpacked at a time
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = base + size_t(r) * row_bytes;
    float* o = out + (r - r0) * cols;
    switch (W.type) {
      case DType::F32: std::memcpy(o, row, cols * sizeof(float)); break;
      case DType::BF16: {
        const uint16_t* h = reinterpret_cast<const uint16_t*>(row);
        for (int64_t c = 0; c < cols; ++c) o[c] = bf16_to_f32(h[c]);
        break;
      }
      case DType::F16: {
        const uint16_t* h = reinterpret_cast<const uint16_t*>(row);
        for (int64_t c = 0; c < cols; ++c) o[c] = f16_to_f32(h[c]);
        break;
      }
      case DType::Q4:
      case DType::Q4X16: {
        const block_q4* b = reinterpret_cast<const block_q4*>(row);
        if (W.type == DType::Q4X16) {  // row r of its group of 16 (same bytes as 16 Q4 rows)
          const int64_t r_in = r % KK_Q4X16_ROWS;
          unpacked.resize(cols / KK_Q4_GROUP);
          q4x16_unpack_row(reinterpret_cast<const block_q4x16*>(row - r_in * row_bytes), cols / KK_Q4_GROUP,
                           int(r_in), unpacked.data());
          b = unpacked.data();
        }
        for (int64_t g = 0; g < cols / KK_Q4_GROUP; ++g) {
          const float d = bf16_to_f32(b[g].scale_bf16);
          for (int j = 0; j < KK_Q4_GROUP / 2; ++j) {
            o[g * KK_Q4_GROUP + j] = float((b[g].qs[j] & 0x0F) - 8) * d;
            o[g * KK_Q4_GROUP + j + KK_Q4_GROUP / 2] = float((b[g].qs[j] >> 4) - 8) * d;
          }
        }
        break;
      }
      case DType::F8_E4M3: {
        const int64_t tiles_per_row = (cols + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK;
        for (int64_t c = 0; c < cols; ++c) {
          const float s = W.fp8_scale_inv ? W.fp8_scale_inv[(r / KK_FP8_BLOCK) * tiles_per_row + c / KK_FP8_BLOCK] : 1.f;
          o[c] = e4m3_to_f32(row[c]) * s;
        }
        break;
      }
      default: return false;
    }
  }
  return true;
}

}  // namespace kk

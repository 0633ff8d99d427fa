// fp8.cpp — see fp8.h.
#include "loader/fp8.h"

#include <cmath>
#include <limits>
#include "kk_blocks.h"

namespace kk {

float fp8_e4m3_to_f32(uint8_t v) {
  const int sign = v >> 7, exp = (v >> 3) & 0xF, man = v & 0x7;
  float mag;
  if (exp == 0xF && man == 0x7) return std::numeric_limits<float>::quiet_NaN();
  if (exp == 0) mag = std::ldexp(float(man) / 8.f, -6);           // subnormal
  else mag = std::ldexp(1.f + float(man) / 8.f, exp - 7);
  return sign ? -mag : mag;
}

void dequantize_row_fp8(const uint8_t* row, int64_t r, int64_t cols, const float* scale_inv, float* out) {
  const int64_t tiles_per_row = (cols + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK;
  const float* s = scale_inv + (r / KK_FP8_BLOCK) * tiles_per_row;
  for (int64_t c = 0; c < cols; c++) out[c] = fp8_e4m3_to_f32(row[c]) * s[c / KK_FP8_BLOCK];
}

}  // namespace kk

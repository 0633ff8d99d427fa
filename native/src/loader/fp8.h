// fp8.h — OCP e4m3 ("float8_e4m3fn": bias 7, no infinities, S.1111.111 is NaN) decoding and the
// block-FP8 dequantization of K2-Instruct / DeepSeek-V3 weights.
#pragma once
#include <cstdint>

namespace kk {

float fp8_e4m3_to_f32(uint8_t v);
// Row `r` of a [rows, cols] e4m3 matrix with fp32 scale_inv per KK_FP8_BLOCK^2 tile, row-major
// [ceil(rows/128)][ceil(cols/128)].
void dequantize_row_fp8(const uint8_t* row, int64_t r, int64_t cols, const float* scale_inv, float* out);

}  // namespace kk

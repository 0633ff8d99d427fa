// int4.h — conversions between compressed-tensors pack-quantized INT4 rows and block_q4 rows,
// and the engine's own symmetric group-32 INT4 quantizer (for bf16 / FP8 experts).
#pragma once
#include <cstddef>
#include <cstdint>
#include "kk_blocks.h"

namespace kk {

// compressed-tensors packs 8 INT4 values per int32 word.
constexpr int kInt4PerWord = 8;
// Largest |q| the quantizer emits. compressed-tensors divides the group's absmax by 7.5
// (bit_range / 2) and clamps to [-8, 7]; Kimi K2 was trained on a symmetric +-7 grid, so we divide
// by 7: weights already on that grid (K2-Thinking's own experts, dequantized) round-trip exactly,
// the largest magnitude of every group is represented without clamping, and -8 is never used.
constexpr int kInt4QuantMax = 7;

// One row of `cols` weights: packed words (cols/8) + bf16 scales (cols/32) -> cols/32 blocks.
void int4_packed_to_q4_row(const uint32_t* packed, const uint16_t* scales_bf16, int64_t cols, block_q4* out);
// The inverse (bit exact).
void q4_row_to_int4_packed(const block_q4* blocks, int64_t cols, uint32_t* packed, uint16_t* scales_bf16);
// One packed word of a block_q4 row (word w covers weights 8w..8w+7).
uint32_t q4_packed_word(const block_q4* row, int64_t w);

// Symmetric group-32 quantization of one f32 row: scale = max(absmax / 7, FLT_EPSILON) rounded
// to bf16 (compressed-tensors clamps scales to the f32 epsilon too), q = round-half-even(x / scale)
// clamped to [-8, 7].
void quantize_row_q4(const float* x, int64_t cols, block_q4* out);
void dequantize_row_q4(const block_q4* blocks, int64_t cols, float* out);

}  // namespace kk

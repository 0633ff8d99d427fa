// int4.h — conversions between compressed-tensors pack-quantized INT4 rows and block_q4 rows,
// and the engine's own symmetric group-32 INT4 quantizer (for bf16 / FP8 experts).
#pragma once
#include <cstddef>
#include <cstdint>
#include "kk_blocks.h"

namespace kk {

// compressed-tensors packs 8 INT4 values per int32 word.
constexpr int kInt4PerWord = 8;
// compressed-tensors' symmetric INT4: scale = absmax / ((q_max - q_min) / 2) = absmax / 7.5,
// clamped below by the f32 epsilon, q = clamp(round_half_even(x / scale), -8, 7).
constexpr float kInt4CtHalfRange = 7.5f;
// Weights that already are INT4 times a per-group scale (a bf16 or f32 copy of an INT4 model —
// Kimi K2 was trained on a symmetric +-7 grid — or of compressed-tensors output, whose groups reach
// -8) are kept exactly: a group on the grid of absmax / 7 (or absmax / 8 when its minimum is
// -absmax) is quantized with that grid's scale; the /7.5 scale would move every value. "On the
// grid" means every value is within kInt4GridTolerance steps of a code in [-8, 7]: bf16 copies are
// off by at most ~0.04 steps (their own and absmax's rounding), while 32 generic values all landing
// that close to a grid has probability about (1/8)^32.
constexpr int kInt4GridMax = 7;
constexpr float kInt4GridTolerance = 1.f / 16.f;

// One row of `cols` weights: packed words (cols/8) + bf16 scales (cols/32) -> cols/32 blocks.
void int4_packed_to_q4_row(const uint32_t* packed, const uint16_t* scales_bf16, int64_t cols, block_q4* out);
// The inverse (bit exact).
void q4_row_to_int4_packed(const block_q4* blocks, int64_t cols, uint32_t* packed, uint16_t* scales_bf16);
// One packed word of a block_q4 row (word w covers weights 8w..8w+7).
uint32_t q4_packed_word(const block_q4* row, int64_t w);

// Symmetric group-32 quantization of one f32 row with compressed-tensors' math (above), except
// that groups already on an INT4 grid keep it. Scales are rounded to bf16 before q is computed, so
// dequantization with the stored scale is what the rounding targeted.
void quantize_row_q4(const float* x, int64_t cols, block_q4* out);
void dequantize_row_q4(const block_q4* blocks, int64_t cols, float* out);

}  // namespace kk

// dequant.h — rows of any weight tensor as fp32 (embedding lookups, derived weights at load).
#pragma once
#include <cstdint>
#include "core/tensor.h"

namespace kk {

// Writes rows [r0, r1) of W (F32, F16, BF16, Q4, F8_E4M3 with its tile scales) to out[(r-r0)*cols].
// Returns false for a dtype it cannot read (I32/I64).
bool dequantize_rows(const Tensor& W, int64_t r0, int64_t r1, float* out);

}  // namespace kk

// q4x16.h — converting Q4 weights (block_q4 rows) to and from the 16-row interleaved layout
// (block_q4x16, kernels/common/kk_blocks.h). Pure byte shuffles: a round trip is the identity.
#pragma once
#include <cstdint>

#include "core/status.h"
#include "core/tensor.h"

namespace kk {

class ThreadPool;

// 16 rows of nb blocks each (row r at rows + r * nb) -> nb interleaved blocks.
void q4x16_pack(const block_q4* rows, int64_t nb, block_q4x16* out);
// Row r (< 16) of a group of nb interleaved blocks -> nb block_q4.
void q4x16_unpack_row(const block_q4x16* group, int64_t nb, int r, block_q4* out);

// Whether a tensor can be repacked: Q4, rows of each matrix (the middle dim of a stacked
// [E, R, C] tensor) a multiple of 16, columns a multiple of 32.
bool q4x16_eligible(const Tensor& t);

// Q4 -> Q4X16 in place when the tensor owns its bytes, into a new owned buffer when they are a
// read-only mapped view. Errors (not eligible, out of memory) leave the tensor as it was.
Status q4x16_repack(Tensor* t, ThreadPool* pool);

}  // namespace kk

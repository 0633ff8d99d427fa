// tensor.h — the engine's tensor: a typed, row-major view over memory it may or may not own.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "kk_blocks.h"

namespace kk {

// Q4X16 is Q4 repacked in groups of 16 rows (block_q4x16), made by the CPU backend at load;
// its bytes per row are those of Q4, so row ranges aligned to 16 address the same bytes.
enum class DType : int { F32 = 0, F16, BF16, Q4, F8_E4M3, I32, I64, Q4X16 };
inline bool is_q4(DType t) { return t == DType::Q4 || t == DType::Q4X16; }

const char* dtype_name(DType t);
// Bytes for `n` elements of a row (n must be a multiple of the block size for Q4).
size_t dtype_row_bytes(DType t, int64_t n);

// A 2-D (or stacked 3-D) weight or activation. shape = {d0, d1[, d2]} row-major, last dim fastest.
// For Q4, the last dim counts weights (not blocks); data holds block_q4 rows.
struct Tensor {
  std::string name;             // checkpoint name, for error messages
  DType type = DType::F32;
  std::vector<int64_t> shape;
  void* data = nullptr;         // points into `owner` or into a memory-mapped file
  std::shared_ptr<void> owner;  // keeps owned storage alive (null for mmapped views)
  // F8_E4M3 only: fp32 `weight_scale_inv`, one per KK_FP8_BLOCK x KK_FP8_BLOCK tile, row-major
  // [ceil(rows/128)][ceil(cols/128)]; weight = fp8 * scale_inv of its tile.
  const float* fp8_scale_inv = nullptr;

  int64_t rows() const { return shape.empty() ? 0 : (shape.size() == 1 ? 1 : numel() / shape.back()); }
  int64_t cols() const { return shape.empty() ? 0 : shape.back(); }
  int64_t numel() const { int64_t n = 1; for (auto d : shape) n *= d; return n; }
  size_t nbytes() const { return rows() * dtype_row_bytes(type, cols()); }
  bool empty() const { return data == nullptr; }
};

// bf16 <-> f32 (bf16 is the top half of an f32; rounding to nearest even on the way down).
inline float bf16_to_f32(uint16_t h) { uint32_t u = uint32_t(h) << 16; float f; __builtin_memcpy(&f, &u, 4); return f; }
inline uint16_t f32_to_bf16(float f) {
  uint32_t u; __builtin_memcpy(&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 0x40);  // keep NaN a NaN
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace kk

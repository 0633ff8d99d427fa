// linear.h — one Linear weight of a checkpoint in whichever format it is stored, validated, and
// its conversions to engine tensors (views, owned copies, block_q4 rows, stacked experts).
#pragma once
#include <string>
#include <vector>
#include "core/tensor.h"
#include "loader/checkpoint.h"

namespace kk {

enum class LinearFormat { Plain, Int4, Fp8 };  // bf16/f16/f32 | compressed-tensors | block-FP8

struct LinearSrc {
  std::string module;        // e.g. "model.layers.3.mlp.experts.7.up_proj"
  LinearFormat fmt = LinearFormat::Plain;
  TensorRef weight;          // .weight, or .weight_packed for Int4
  TensorRef scale;           // .weight_scale (Int4, bf16) or .weight_scale_inv (Fp8, f32)
  int64_t out = 0, in = 0;
};

// Finds and validates module.{weight | weight_packed+weight_scale+weight_shape |
// weight+weight_scale_inv} for an [out, in] Linear. Scale values are checked at conversion.
Status resolve_linear(const Checkpoint& ck, const std::string& module, int64_t out, int64_t in, LinearSrc* src);

// Allocates `bytes` (64-byte aligned, zeroed tail) owned by the returned pointer.
std::shared_ptr<void> alloc_owned(size_t bytes);

// A Plain or Fp8 source as an engine tensor: zero-copy view into the mapping when aligned,
// else an owned copy. Int4 sources become Q4 (owned).
Status linear_tensor(const LinearSrc& src, Tensor* out);
// A norm / bias vector as an owned F32 tensor.
Status f32_vector(const TensorRef& ref, Tensor* out);

// Writes src as out rows of block_q4 (Int4: bit repack; Fp8/Plain: dequantize + quantize_row_q4).
// Rejects NaN, infinite, zero or negative INT4 scales and non-finite FP8 scales.
Status linear_to_q4(const LinearSrc& src, block_q4* dst);

// Stacks experts[e] (all [out, in]) into one [E, out, in] tensor named `name`: Q4 when
// `to_q4` (or any expert is Int4), else in the experts' common stored dtype (BF16/F16/F32 or
// F8_E4M3 with per-expert scale tiles following each other in fp8_scale_inv).
Status stack_experts(const std::vector<LinearSrc>& experts, bool to_q4, const std::string& name, Tensor* out);

}  // namespace kk

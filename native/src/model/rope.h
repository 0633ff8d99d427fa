// rope.h — rotary position embedding as HF DeepseekV3 computes it: YaRN inverse frequencies,
// the interleaved ("rope_interleave") layout, and the attention softmax scale with mscale².
#pragma once
#include <cstdint>
#include <vector>
#include "model/config.h"

namespace kk {

struct Rope {
  int dim = 0;                   // qk_rope_head_dim
  std::vector<float> inv_freq;   // [dim/2], float32 as HF computes it
  float attention_factor = 1.f;  // multiplies cos and sin (YaRN mscale / mscale_all_dim ratio)
  float softmax_scale = 1.f;     // qk_head_dim^-0.5 · mscale(factor, mscale_all_dim)²

  static Rope from_config(const ModelConfig& c);
  // x [dim] stored interleaved (pairs (0,1), (2,3), ...) -> de-interleaved and rotated in place:
  //   a = x[2i], b = x[2i+1];  x[i] = a·cos - b·sin;  x[i + dim/2] = b·cos + a·sin
  // with angle = pos · inv_freq[i]. q and k both end up in this layout, so their dot is a RoPE dot.
  void apply(float* x, int64_t pos) const;
  // The same in two steps, so one position's cos/sin serve the key and every head's query.
  void cos_sin(int64_t pos, float* cos, float* sin) const;  // [dim/2] each, × attention_factor
  void rotate(float* x, const float* cos, const float* sin) const;
};

}  // namespace kk

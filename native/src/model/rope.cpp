// rope.cpp — YaRN exactly as transformers' _compute_yarn_parameters and DeepseekV3Attention.
#include "model/rope.h"
#include <algorithm>
#include <cmath>

namespace kk {
namespace {

// yarn_get_mscale: 0.1·m·ln(s) + 1 for s > 1, else 1.
double yarn_mscale(double scale, double m) { return scale <= 1.0 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; }

// The dimension whose wavelength completes `rotations` turns within the original context.
double correction_dim(double rotations, int dim, double base, double max_pos) {
  return (dim * std::log(max_pos / (rotations * 2 * M_PI))) / (2 * std::log(base));
}

}  // namespace

Rope Rope::from_config(const ModelConfig& c) {
  Rope r;
  r.dim = c.qk_rope_head_dim;
  const int half = r.dim / 2;
  const float base = float(c.rope_theta);
  r.inv_freq.resize(half);
  std::vector<float> pos_freqs(half);
  for (int i = 0; i < half; ++i)  // HF: base ** (arange(0, dim, 2).float() / dim), in float32
    pos_freqs[i] = std::pow(base, float(2 * i) / float(r.dim));
  r.softmax_scale = float(1.0 / std::sqrt(double(c.qk_head_dim())));

  const RopeScaling& s = c.rope_scaling;
  if (s.type != "yarn") {
    for (int i = 0; i < half; ++i) r.inv_freq[i] = 1.0f / pos_freqs[i];
    return r;
  }
  const double factor = s.factor;
  const double orig = s.original_max_position_embeddings > 0 ? s.original_max_position_embeddings
                                                             : c.max_position_embeddings;
  // attention_factor: mscale(factor, mscale) / mscale(factor, mscale_all_dim) when both are set,
  // else mscale(factor, 1) — HF's rule; K2 (both 1) gets exactly 1.
  if (s.mscale != 0 && s.mscale_all_dim != 0)
    r.attention_factor = float(yarn_mscale(factor, s.mscale) / yarn_mscale(factor, s.mscale_all_dim));
  else
    r.attention_factor = float(yarn_mscale(factor, 1.0));
  const double beta_fast = s.beta_fast != 0 ? s.beta_fast : 32.0;
  const double beta_slow = s.beta_slow != 0 ? s.beta_slow : 1.0;
  double low = std::floor(correction_dim(beta_fast, r.dim, c.rope_theta, orig));
  double high = std::ceil(correction_dim(beta_slow, r.dim, c.rope_theta, orig));
  low = std::max(low, 0.0);
  high = std::min(high, double(r.dim - 1));
  if (low == high) high += 0.001;  // avoid a division by zero in the ramp
  for (int i = 0; i < half; ++i) {
    const float ramp = std::clamp(float((float(i) - low) / (high - low)), 0.f, 1.f);
    const float extrap = 1.f - ramp;  // 1: keep the original frequency (high-frequency dims)
    const float f_extra = 1.0f / pos_freqs[i];
    const float f_inter = 1.0f / (float(factor) * pos_freqs[i]);
    r.inv_freq[i] = f_inter * (1.f - extrap) + f_extra * extrap;
  }
  // DeepseekV3Attention: scaling = qk_head_dim^-0.5 · mscale², mscale = yarn_mscale(factor, mscale_all_dim)
  if (s.mscale_all_dim != 0) {
    const double m = yarn_mscale(factor, s.mscale_all_dim);
    r.softmax_scale = float(r.softmax_scale * m * m);
  }
  return r;
}

void Rope::cos_sin(int64_t pos, float* cos, float* sin) const {
  for (int i = 0; i < dim / 2; ++i) {
    const float angle = float(pos) * inv_freq[i];  // float32, as HF's rotary forward
    cos[i] = float(std::cos(double(angle))) * attention_factor;
    sin[i] = float(std::sin(double(angle))) * attention_factor;
  }
}

void Rope::rotate(float* x, const float* cos, const float* sin) const {
  const int half = dim / 2;
  std::vector<float> y(dim);
  for (int i = 0; i < half; ++i) {
    const float a = x[2 * i], b = x[2 * i + 1];
    y[i] = a * cos[i] - b * sin[i];
    y[i + half] = b * cos[i] + a * sin[i];
  }
  std::copy(y.begin(), y.end(), x);
}

void Rope::apply(float* x, int64_t pos) const {
  std::vector<float> c(dim / 2), s(dim / 2);
  cos_sin(pos, c.data(), s.data());
  rotate(x, c.data(), s.data());
}

}  // namespace kk

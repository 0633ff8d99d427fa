// test_rope.cpp — YaRN at Kimi K2's real size (rope dim 64, theta 50000, original context 4096,
// beta 1/1; factor 32 for K2-Instruct, 64 for K2-Thinking): inverse frequencies either side of the
// ramp (dims 19..20), the softmax scale with mscale², and the interleaved rotation. Expected
// values from transformers' _compute_yarn_parameters formulas evaluated in float64.
#include <cmath>
#include "model/rope.h"
#include "test_util.h"

using namespace kk;

static bool close(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::fabs(b); }

int main() {
  ModelConfig c;
  c.qk_nope_head_dim = 128;
  c.qk_rope_head_dim = 64;
  c.rope_theta = 50000.0;
  c.max_position_embeddings = 262144;
  c.rope_scaling.type = "yarn";
  c.rope_scaling.original_max_position_embeddings = 4096;
  c.rope_scaling.beta_fast = 1.0;
  c.rope_scaling.beta_slow = 1.0;
  c.rope_scaling.mscale = 1.0;
  c.rope_scaling.mscale_all_dim = 1.0;
  const int idx[5] = {0, 10, 19, 20, 31};
  struct Case { double factor, scale, inv[5]; } cases[2] = {
      {32.0, 0.13086079996295005, {1.0, 0.0340072781554661, 0.0016217599081159522, 3.6140467735726306e-05, 8.764412911589875e-07}},
      {64.0, 0.14467962580268923, {1.0, 0.0340072781554661, 0.0016217599081159522, 1.8070233867863153e-05, 4.3822064557949375e-07}},
  };
  for (const Case& k : cases) {
    c.rope_scaling.factor = k.factor;
    const Rope r = Rope::from_config(c);
    for (int i = 0; i < 5; ++i)
      CHECK(close(r.inv_freq[idx[i]], k.inv[i], 1e-5), "factor %g inv_freq[%d] = %.9g, want %.9g", k.factor,
            idx[i], r.inv_freq[idx[i]], k.inv[i]);
    CHECK(close(r.softmax_scale, k.scale, 1e-6), "factor %g softmax scale %.9g, want %.9g", k.factor, r.softmax_scale, k.scale);
    CHECK(r.attention_factor == 1.f, "mscale == mscale_all_dim: attention factor 1, got %g", r.attention_factor);
  }
  // No rope_scaling (Moonlight): plain frequencies, scale qk_head_dim^-0.5.
  c.rope_scaling.type = "";
  const Rope plain = Rope::from_config(c);
  CHECK(close(plain.inv_freq[20], std::pow(50000.0, -40.0 / 64.0), 1e-6), "plain inv_freq");
  CHECK(close(plain.softmax_scale, 1.0 / std::sqrt(192.0), 1e-7), "plain scale");

  // Interleaved pairs (x[2i], x[2i+1]) rotate by pos·inv_freq[i] into (y[i], y[i + dim/2]).
  float x[64];
  for (int i = 0; i < 64; ++i) x[i] = float(i + 1);
  plain.apply(x, 3);
  for (int i : {0, 5, 31}) {
    const double a = 2 * i + 1, b = 2 * i + 2, t = 3.0 * plain.inv_freq[i];
    CHECK(std::fabs(x[i] - (a * std::cos(t) - b * std::sin(t))) < 1e-4 &&
              std::fabs(x[i + 32] - (b * std::cos(t) + a * std::sin(t))) < 1e-4,
          "rotation of pair %d", i);
  }
  return kk_test::finish("test_rope");
}

// test_router.cpp — the sigmoid router: bias chooses but never weighs, group limit, normalisation,
// routed scaling (DeepSeek-V3's n_group 8 / topk_group 4 routing must follow the config).
#include <cmath>
#include <vector>
#include "model/router.h"
#include "test_util.h"

using namespace kk;

static float logit(float p) { return std::log(p / (1 - p)); }  // sigmoid⁻¹

int main() {
  ModelConfig c;
  c.n_routed_experts = 8;
  c.num_experts_per_tok = 2;
  c.routed_scaling_factor = 2.5;
  c.norm_topk_prob = true;
  // Sigmoid scores s: expert 6 is best, then 1, then 3.
  const std::vector<float> s{0.10f, 0.80f, 0.20f, 0.60f, 0.05f, 0.15f, 0.90f, 0.30f};
  std::vector<float> logits;
  for (float p : s) logits.push_back(logit(p));
  int32_t ids[2];
  float w[2];

  // No groups, no bias: top-2 by score, weights normalised then scaled.
  c.n_group = 1;
  c.topk_group = 1;
  route_token(c, logits.data(), nullptr, ids, w);
  CHECK(ids[0] == 1 && ids[1] == 6, "top-2 = {1, 6}, got {%d, %d}", ids[0], ids[1]);
  CHECK(std::fabs(w[0] - 2.5f * 0.8f / 1.7f) < 1e-5 && std::fabs(w[1] - 2.5f * 0.9f / 1.7f) < 1e-5,
        "normalised, scaled weights: %g %g", w[0], w[1]);

  // The bias moves the choice (expert 4 now wins a slot) but the weight is its plain score.
  std::vector<float> bias(8, 0.f);
  bias[4] = 1.0f;
  route_token(c, logits.data(), bias.data(), ids, w);
  CHECK(ids[0] == 4 && ids[1] == 6, "biased top-2 = {4, 6}, got {%d, %d}", ids[0], ids[1]);
  CHECK(std::fabs(w[0] - 2.5f * 0.05f / 0.95f) < 1e-5, "bias never weighs: %g", w[0]);

  // 4 groups of 2, keep 1 group: group scores (sum of top-2) = {0.9, 0.8, 0.2, 1.2} -> group 3
  // wins, so experts {6, 7} even though expert 1 outscores 7.
  c.n_group = 4;
  c.topk_group = 1;
  route_token(c, logits.data(), nullptr, ids, w);
  CHECK(ids[0] == 6 && ids[1] == 7, "group-limited top-2 = {6, 7}, got {%d, %d}", ids[0], ids[1]);
  // Keep 2 groups: groups 3 and 0 -> {1, 6}.
  c.topk_group = 2;
  route_token(c, logits.data(), nullptr, ids, w);
  CHECK(ids[0] == 1 && ids[1] == 6, "two groups top-2 = {1, 6}, got {%d, %d}", ids[0], ids[1]);

  // Without normalisation the weights are the scores times the scaling factor.
  c.n_group = 1;
  c.norm_topk_prob = false;
  route_token(c, logits.data(), nullptr, ids, w);
  CHECK(std::fabs(w[1] - 2.5f * 0.9f) < 1e-5, "unnormalised weight %g", w[1]);
  return kk_test::finish("test_router");
}

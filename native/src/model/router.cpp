// router.cpp — sigmoid scoring, correction bias for choice, group limit, top-k, normalisation.
#include "model/router.h"
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace kk {

void route_token(const ModelConfig& c, const float* logits, const float* bias, int32_t* ids,
                 float* weights) {
  const int E = c.n_routed_experts, K = c.num_experts_per_tok;
  const int G = std::max(1, c.n_group), per_group = E / G;
  std::vector<float> s(E), choice(E);
  for (int e = 0; e < E; ++e) {
    s[e] = 1.f / (1.f + std::exp(-logits[e]));
    choice[e] = s[e] + (bias ? bias[e] : 0.f);
  }
  if (G > 1 && c.topk_group < G) {
    std::vector<float> group_score(G);
    for (int g = 0; g < G; ++g) {
      float a = -INFINITY, b = -INFINITY;  // the two largest choices of the group
      for (int e = g * per_group; e < (g + 1) * per_group; ++e) {
        if (choice[e] > a) { b = a; a = choice[e]; } else if (choice[e] > b) { b = choice[e]; }
      }
      group_score[g] = a + (per_group > 1 ? b : 0.f);
    }
    std::vector<int> order(G);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return group_score[x] > group_score[y]; });
    // HF masks dropped groups with 0.0 (not -inf): a kept expert with a negative choice can lose
    // to a dropped one, exactly as there.
    for (int r = c.topk_group; r < G; ++r)
      for (int e = order[r] * per_group; e < (order[r] + 1) * per_group; ++e) choice[e] = 0.f;
  }
  std::vector<int> order(E);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + K, order.end(),
                    [&](int x, int y) { return choice[x] > choice[y] || (choice[x] == choice[y] && x < y); });
  std::sort(order.begin(), order.begin() + K);
  float sum = 0.f;
  for (int k = 0; k < K; ++k) { ids[k] = order[k]; weights[k] = s[order[k]]; sum += weights[k]; }
  for (int k = 0; k < K; ++k) {
    if (c.norm_topk_prob) weights[k] /= (sum + 1e-20f);
    weights[k] *= float(c.routed_scaling_factor);
  }
}

}  // namespace kk

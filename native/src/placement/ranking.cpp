// ranking.cpp — expert values and their global order for the placement greedy.
#include "placement/ranking.h"

#include <algorithm>
#include <numeric>

namespace kk::placement {

int Plan::count() const { return int(std::count(on_gpu.begin(), on_gpu.end(), uint8_t(1))); }
int Plan::count_layer(int layer) const {
  auto b = on_gpu.begin() + size_t(layer) * n_experts;
  return int(std::count(b, b + n_experts, uint8_t(1)));
}

namespace detail {

namespace {
double share_of(const RoutingStats& stats, int n_experts, int l, int e) {
  return stats.empty() ? 1.0 / n_experts : stats.share(l, e);
}
}  // namespace

Status check_shapes(const ModelSizes& sizes, const RoutingStats& stats) {
  if (sizes.n_experts <= 0) return Status::Error("placement: n_experts must be positive");
  if (sizes.non_expert_bytes < 0 || sizes.kv_cache_bytes < 0 || sizes.workspace_bytes < 0)
    return Status::Error("placement: negative size");
  for (int64_t b : sizes.expert_bytes)
    if (b < 0) return Status::Error("placement: negative expert size");
  if (!stats.empty() &&
      (stats.n_layers() != int(sizes.expert_bytes.size()) || stats.n_experts() != sizes.n_experts))
    return Status::Error("placement: routing statistics are for " + std::to_string(stats.n_layers()) +
                         " layers x " + std::to_string(stats.n_experts()) + " experts, the model has " +
                         std::to_string(sizes.expert_bytes.size()) + " x " + std::to_string(sizes.n_experts));
  return Status::OK();
}

std::vector<Candidate> rank_candidates(const ModelSizes& sizes, const RoutingStats& stats) {
  const int L = int(sizes.expert_bytes.size()), E = sizes.n_experts;
  std::vector<Candidate> out;
  std::vector<int> order(E);
  std::vector<double> v(E);
  for (int l = 0; l < L; ++l) {
    if (sizes.expert_bytes[l] == 0) continue;  // dense layer
    for (int e = 0; e < E; ++e) v[e] = share_of(stats, E, l, e);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return v[a] > v[b]; });
    for (int r = 0; r < E; ++r) out.push_back({l, order[r], r, v[order[r]], sizes.expert_bytes[l]});
  }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    if (a.value != b.value) return a.value > b.value;
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.layer < b.layer;
  });
  return out;
}

int64_t expert_budget(const ModelSizes& sizes, int64_t budget_bytes) {
  const int64_t base = sizes.non_expert_bytes + sizes.kv_cache_bytes + sizes.workspace_bytes;
  return budget_bytes >= base ? budget_bytes - base : -1;
}

void account(const ModelSizes& sizes, const RoutingStats& stats, Plan* plan) {
  plan->bytes_experts = 0;
  double saved = 0, total = 0;
  for (int l = 0; l < plan->n_layers; ++l) {
    const int64_t b = sizes.expert_bytes[l];
    total += double(b);
    for (int e = 0; e < plan->n_experts; ++e) {
      if (!plan->resident(l, e)) continue;
      plan->bytes_experts += b;
      saved += share_of(stats, plan->n_experts, l, e) * double(b);
    }
  }
  plan->gpu_traffic_share = total > 0 ? saved / total : 0;
}

}  // namespace detail
}  // namespace kk::placement

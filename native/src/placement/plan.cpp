// plan.cpp — the placement greedy: non-experts first, then experts by traffic saved per byte.
#include <algorithm>
#include <string>

#include "placement/placement.h"
#include "placement/ranking.h"

namespace kk::placement {

Status plan_placement(const ModelSizes& sizes, int64_t budget_bytes, const RoutingStats& stats,
                      const Options& opts, Plan* out) {
  KK_RETURN_IF_ERROR(detail::check_shapes(sizes, stats));
  if (opts.mode == Mode::kFixedTopN && opts.top_n_per_layer < 0)
    return Status::Error("placement: top_n_per_layer must be >= 0");
  Plan p;
  p.n_layers = int(sizes.expert_bytes.size());
  p.n_experts = sizes.n_experts;
  p.on_gpu.assign(size_t(p.n_layers) * p.n_experts, 0);
  int64_t left = detail::expert_budget(sizes, budget_bytes);
  p.non_expert_on_gpu = left >= 0;
  if (p.non_expert_on_gpu) {
    p.bytes_non_expert = sizes.non_expert_bytes + sizes.kv_cache_bytes + sizes.workspace_bytes;
    std::vector<detail::Candidate> cands = detail::rank_candidates(sizes, stats);
    if (opts.mode == Mode::kFixedTopN) {
      // Same N in every layer: round-robin by rank so a short budget shortens all layers alike.
      cands.erase(std::remove_if(cands.begin(), cands.end(),
                                 [&](const detail::Candidate& c) { return c.rank >= opts.top_n_per_layer; }),
                  cands.end());
      std::stable_sort(cands.begin(), cands.end(), [](const detail::Candidate& a, const detail::Candidate& b) {
        return a.rank != b.rank ? a.rank < b.rank : a.layer < b.layer;
      });
    } else if (opts.mode == Mode::kNone) {
      cands.clear();
    }
    // First fit: with per-layer expert sizes that differ, a smaller later expert may still fit.
    for (const auto& c : cands) {
      if (c.bytes > left) continue;
      p.on_gpu[size_t(c.layer) * p.n_experts + c.expert] = 1;
      left -= c.bytes;
    }
  }
  detail::account(sizes, stats, &p);
  *out = std::move(p);
  return Status::OK();
}

Status plan_hot_set(int n_moe_layers, int64_t expert_bytes, int64_t budget_bytes, const RoutingStats& stats,
                    Plan* out) {
  if (n_moe_layers < 0 || n_moe_layers > stats.n_layers() || expert_bytes <= 0)
    return Status::Error("placement: hot set for " + std::to_string(n_moe_layers) + " MoE layers of " +
                         std::to_string(stats.n_layers()) + " (expert bytes " + std::to_string(expert_bytes) + ")");
  ModelSizes sizes;
  sizes.n_experts = stats.n_experts();
  sizes.expert_bytes.assign(size_t(stats.n_layers()), 0);
  for (int l = 0; l < n_moe_layers; ++l) sizes.expert_bytes[size_t(l)] = expert_bytes;
  return plan_placement(sizes, budget_bytes, stats, {}, out);
}

}  // namespace kk::placement

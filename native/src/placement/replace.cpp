// replace.cpp — re-placement between requests: the few copies that are clearly worth it.
#include <algorithm>

#include "placement/placement.h"
#include "placement/ranking.h"

namespace kk::placement {

namespace {

bool worth_swapping(double v_in, double v_out, const ReplaceOptions& r) {
  return v_in > v_out * (1.0 + r.hysteresis) && v_in - v_out >= r.min_share_gain;
}

}  // namespace

Status plan_replacement(const ModelSizes& sizes, int64_t budget_bytes, const RoutingStats& stats,
                        const Options& opts, const ReplaceOptions& ropts, const Plan& current,
                        Delta* out) {
  KK_RETURN_IF_ERROR(detail::check_shapes(sizes, stats));
  if (current.n_layers != int(sizes.expert_bytes.size()) || current.n_experts != sizes.n_experts ||
      current.on_gpu.size() != size_t(current.n_layers) * current.n_experts)
    return Status::Error("placement: current plan does not match the model's shape");
  if (ropts.hysteresis < 0 || ropts.min_share_gain < 0 || ropts.max_upload_bytes < 0)
    return Status::Error("placement: bad re-placement options");

  Delta d;
  std::vector<detail::Candidate> cands = detail::rank_candidates(sizes, stats);
  auto idx = [&](int l, int e) { return size_t(l) * sizes.n_experts + e; };

  if (opts.mode != Mode::kTraffic) {
    // Comparison modes are defined by their rule, not by history: move exactly to the new plan.
    KK_RETURN_IF_ERROR(plan_placement(sizes, budget_bytes, stats, opts, &d.next));
    for (auto it = cands.rbegin(); it != cands.rend(); ++it)
      if (current.on_gpu[idx(it->layer, it->expert)] && !d.next.on_gpu[idx(it->layer, it->expert)])
        d.evict.push_back({it->layer, it->expert});
    for (const auto& c : cands)
      if (!current.on_gpu[idx(c.layer, c.expert)] && d.next.on_gpu[idx(c.layer, c.expert)])
        d.upload.push_back({c.layer, c.expert});
    *out = std::move(d);
    return Status::OK();
  }

  Plan next = current;
  const int64_t room = detail::expert_budget(sizes, budget_bytes);
  next.non_expert_on_gpu = room >= 0;
  next.bytes_non_expert = room >= 0 ? sizes.non_expert_bytes + sizes.kv_cache_bytes + sizes.workspace_bytes : 0;

  // Residents, least valuable first (reverse of the claim order); non-residents, most valuable first.
  std::vector<detail::Candidate> resident, outside;
  for (auto it = cands.rbegin(); it != cands.rend(); ++it)
    if (current.on_gpu[idx(it->layer, it->expert)]) resident.push_back(*it);
  for (const auto& c : cands)
    if (!current.on_gpu[idx(c.layer, c.expert)]) outside.push_back(c);

  int64_t used = 0;
  for (const auto& c : resident) used += c.bytes;
  int64_t free_bytes = (room >= 0 ? room : 0) - used;
  size_t victim = 0;
  auto evict_next = [&]() {
    const auto& c = resident[victim++];
    next.on_gpu[idx(c.layer, c.expert)] = 0;
    d.evict.push_back({c.layer, c.expert});
    free_bytes += c.bytes;
  };
  // The budget shrank (or the base no longer fits): forced evictions, cheapest loss first.
  while (free_bytes < 0 || (room < 0 && victim < resident.size())) evict_next();

  int64_t uploaded = 0;
  if (room >= 0) {
    for (const auto& c : outside) {
      if (ropts.max_upload_bytes > 0 && uploaded + c.bytes > ropts.max_upload_bytes) continue;
      if (c.bytes > free_bytes) {
        // Displace residents only while each displaced one is clearly worth less.
        size_t v = victim;
        int64_t gathered = free_bytes;
        while (gathered < c.bytes && v < resident.size() && worth_swapping(c.value, resident[v].value, ropts))
          gathered += resident[v++].bytes;
        if (gathered < c.bytes) break;  // later outsiders are worth less, residents more: no more swaps
        while (victim < v) evict_next();
      }
      next.on_gpu[idx(c.layer, c.expert)] = 1;
      d.upload.push_back({c.layer, c.expert});
      free_bytes -= c.bytes;
      uploaded += c.bytes;
    }
  }
  detail::account(sizes, stats, &next);
  d.next = std::move(next);
  *out = std::move(d);
  return Status::OK();
}

}  // namespace kk::placement

// ranking.h — (internal) the order in which experts claim GPU memory, shared by plan and replace.
#pragma once
#include <vector>
#include "core/status.h"
#include "placement/placement.h"

namespace kk::placement::detail {

struct Candidate {
  int layer, expert;
  int rank;         // position within its layer by share (0 = most used), ties by expert id
  double value;     // expected share of the layer's routing decisions (traffic saved per byte)
  int64_t bytes;
};

// Checks that sizes, stats and (optionally) a current plan agree on shape.
Status check_shapes(const ModelSizes& sizes, const RoutingStats& stats);

// Every expert of every MoE layer, most valuable first. Ties (flat statistics) go by rank within
// the layer, then layer: so equal experts are spread evenly over layers, deterministically.
std::vector<Candidate> rank_candidates(const ModelSizes& sizes, const RoutingStats& stats);

// Bytes left for routed experts once workspace, non-expert weights and KV cache are in; -1 if
// they do not fit.
int64_t expert_budget(const ModelSizes& sizes, int64_t budget_bytes);

// Fills bytes_experts and gpu_traffic_share of a plan from its mask.
void account(const ModelSizes& sizes, const RoutingStats& stats, Plan* plan);

}  // namespace kk::placement::detail

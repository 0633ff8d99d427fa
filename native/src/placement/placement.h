// placement.h — which routed experts of which layer live on the GPU (hybrid CPU+GPU MoE).
//
// A pure policy: sizes + VRAM budget + routing statistics in, a mask out. No CUDA, no I/O, no
// clocks, so it is unit-tested on any machine (native/tests/test_placement.cpp) and the same inputs
// always give the same mask.
//
// Order of claims on the budget: workspace reserve, then every non-expert weight and the KV cache
// for the configured context (they are read for every token, so they always pay most), then routed
// experts by expected traffic saved per byte. An expert on the GPU saves the CPU reading its bytes
// each time a token routes to it, so its value per byte is simply how often it is used: its share
// of the routing decisions of its layer. The greedy is global over all layers: a hot expert of
// layer 40 beats a lukewarm one of layer 3.
#pragma once
#include <cstdint>
#include <vector>
#include "core/status.h"
#include "placement/routing_stats.h"

namespace kk::placement {

// Bytes the model asks of the GPU. Layers are the model's layers; a layer with no routed experts
// (a dense layer) has expert_bytes[l] == 0 and is never given experts.
struct ModelSizes {
  int64_t non_expert_bytes = 0;         // embeddings, attention, norms, router, shared experts, dense MLPs, lm_head
  int64_t kv_cache_bytes = 0;           // latent cache for max_sequences × max_context, all layers
  int64_t workspace_bytes = 0;          // activations, scratch, staging buffers
  int n_experts = 0;                    // routed experts per MoE layer
  std::vector<int64_t> expert_bytes;    // per layer: bytes of ONE routed expert (gate + up + down)
};

enum class Mode {
  kTraffic,   // greedy over all layers by expected traffic saved per byte (default)
  kFixedTopN, // the N most used experts of every MoE layer (for comparisons), budget permitting
  kNone,      // no routed expert on the GPU
};

struct Options {
  Mode mode = Mode::kTraffic;
  int top_n_per_layer = 0;  // kFixedTopN only
};

struct ExpertRef {
  int layer = 0, expert = 0;
  bool operator==(const ExpertRef& o) const { return layer == o.layer && expert == o.expert; }
};

struct Plan {
  int n_layers = 0, n_experts = 0;
  bool non_expert_on_gpu = false;  // false: the budget does not even hold non-experts + KV cache
  std::vector<uint8_t> on_gpu;     // [layer * n_experts + expert], 1 = resident on the GPU
  int64_t bytes_non_expert = 0;    // non-expert + KV + workspace when resident, else 0
  int64_t bytes_experts = 0;       // sum of resident experts' bytes
  double gpu_traffic_share = 0;    // expected share of routed-expert bytes read served by the GPU

  bool resident(int layer, int expert) const { return on_gpu[size_t(layer) * n_experts + expert] != 0; }
  int count() const;
  int count_layer(int layer) const;
};

// The placement for `budget_bytes` of VRAM. `stats` may be empty of observations (flat prior:
// experts are spread evenly across layers). Errors only on inconsistent inputs.
Status plan_placement(const ModelSizes& sizes, int64_t budget_bytes, const RoutingStats& stats,
                      const Options& opts, Plan* out);

// The hot set at load, for a slab of expert slots alone (nothing else claims this budget): the
// first n_moe_layers of `stats`' layers are MoE layers whose experts take expert_bytes each. With
// statistics saved for this model the most used experts over all layers; with none (no
// observations) spread evenly over the layers, never "the first experts".
Status plan_hot_set(int n_moe_layers, int64_t expert_bytes, int64_t budget_bytes, const RoutingStats& stats,
                    Plan* out);

// Re-placement between requests: moves from `current` towards the plan the new statistics ask
// for, under the same (or a new) budget, without churn.
struct ReplaceOptions {
  // An expert only displaces a resident one when it is used this much more often, relatively:
  // v_in > v_out · (1 + hysteresis). Routing shares fluctuate by tens of percent between
  // requests; copying an expert costs ~1 ms of PCIe per 20 MB, so only clear wins are worth it.
  double hysteresis = 0.25;
  // ... and by at least this absolute share of its layer's routing decisions (guards experts that
  // are both almost never used, where a relative margin means nothing).
  double min_share_gain = 1e-3;
  // Upper bound on bytes copied to the GPU by one re-placement (0 = unbounded): re-placement runs
  // in the background between requests and must not hog PCIe.
  int64_t max_upload_bytes = 0;
};

struct Delta {
  std::vector<ExpertRef> upload;  // copy these to the GPU (most valuable first)
  std::vector<ExpertRef> evict;   // free these (least valuable first); evict before upload
  Plan next;                      // `current` after applying the delta
};

// `current` must have been planned for the same layer/expert shape. Kind of plan is kept: a
// kNone or kFixedTopN current is re-planned exactly (no hysteresis in comparison modes).
Status plan_replacement(const ModelSizes& sizes, int64_t budget_bytes, const RoutingStats& stats,
                        const Options& opts, const ReplaceOptions& ropts, const Plan& current,
                        Delta* out);

}  // namespace kk::placement

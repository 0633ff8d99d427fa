// routing_stats.h — how often the router picks each expert of each layer, decayed over time.
//
// The engine records every MoE layer's top-k choices while it runs; the placement policy
// (placement.h) reads the shares to decide which experts live on the GPU. Old traffic fades with a
// half-life counted in tokens, so the hot set follows the conversation topic. Saved per model as a
// small binary file so a restart starts from yesterday's hot set, not from a flat guess.
//
// Not synchronized: one thread records (the forward); planners work on a copy taken between steps.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "core/status.h"

namespace kk::placement {

class RoutingStats {
 public:
  // Pseudo-count added to every expert when computing shares: with no data every expert of a
  // layer has share 1/E, and a handful of observations cannot make an expert look certain.
  static constexpr double kPriorCount = 0.5;
  // Default half-life: a few long conversations. Shorter makes the hot set jumpy.
  static constexpr double kDefaultHalfLifeTokens = 20000;

  RoutingStats() = default;
  RoutingStats(int n_layers, int n_experts, double half_life_tokens = kDefaultHalfLifeTokens);

  int n_layers() const { return n_layers_; }
  int n_experts() const { return n_experts_; }
  double half_life_tokens() const { return half_life_; }
  bool empty() const { return n_layers_ == 0; }

  // One MoE layer's routing for n_tokens tokens: ids[t * top_k + k]. First decays the layer's
  // counts by 2^(-n_tokens / half_life), then counts each choice once. Ids outside [0, E) are an
  // error (nothing is recorded).
  Status record(int layer, const int32_t* ids, int64_t n_tokens, int top_k);

  double count(int layer, int expert) const { return counts_[size_t(layer) * n_experts_ + expert]; }
  double tokens(int layer) const { return tokens_[layer]; }        // decayed tokens seen
  double decisions(int layer) const;                                // Σ_e count
  // Smoothed share of the layer's routing decisions that go to `expert` (sums to 1 over experts).
  double share(int layer, int expert) const;

  // Binary file: magic, version, dims, half-life, model key, decayed tokens and counts (f64).
  // `model_key` ties the file to one model (say its config hash); load refuses another model's file.
  Status save(const std::string& path, const std::string& model_key) const;
  static Status load(const std::string& path, const std::string& model_key, RoutingStats* out);

  // A file name for a model key, e.g. "routing-stats-1f2e3d4c5b6a7980.bin" (FNV-1a of the key).
  static std::string file_name_for(const std::string& model_key);

 private:
  int n_layers_ = 0, n_experts_ = 0;
  double half_life_ = kDefaultHalfLifeTokens;
  std::vector<double> counts_;  // [layer][expert]
  std::vector<double> tokens_;  // [layer]
};

}  // namespace kk::placement

// cuda_hybrid_moe.h — the hybrid MoE step of the "cuda" backend: hot experts on the GPU, cold
// experts on the CPU, both at once, for the same tokens.
//
// Resident experts live in one device slab of expert slots (gate, up and down per slot) sized by a
// VRAM budget; each MoE layer (recognised by its stacked gate tensor) has a slot_of table. Every
// call records its routing into RoutingStats; the GPU computes the tokens' resident experts while
// CPU threads compute the others from RAM (cpu::moe with the cold mask), and the two partial sums
// are added. New layers take free slots as they appear; replace() moves the hot set towards the
// live statistics with the placement policy's hysteresis (placement/placement.h), between requests.
// Layers are known by the host address of their stacked gate tensor, checked by a fingerprint of
// the weights (an engine destroyed and another loaded may reuse addresses). Known limit: the
// layers of a model that is gone keep their slots until re-placement evicts them.
// Not thread-safe: the backend calls it under its lock.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "backend_cuda/device_scratch.h"
#include "kk_cuda_plugin_abi.h"
#include "placement/placement.h"
#include "placement/routing_stats.h"

namespace kk {

struct HybridMoeCounts {
  int64_t calls = 0;         // MoE calls
  int64_t gpu_pairs = 0;     // (token, expert) pairs computed on the GPU
  int64_t cpu_pairs = 0;     // ... and on the CPU
  int64_t uploads = 0, evictions = 0;  // experts moved by placement
  int64_t slots = 0;         // expert slots in the device slab
  int64_t stats_loaded = 0;  // slabs whose hot set came from a saved routing-statistics file
};

class HybridMoe {
 public:
  // Most MoE layers one model can have (K2: 60); the routing statistics are sized for it.
  static constexpr int kMaxLayers = 256;

  HybridMoe(const kk_cuda_plugin* api, kk_cuda_stream stream) : api_(api), stream_(stream) {}
  ~HybridMoe();

  // y = Σ routed experts, as cpu::moe; false if this layer cannot run here (then the caller
  // computes it on the CPU). `mask` as in cpu::moe (null = all experts).
  bool run(const OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& down, const float* x, int64_t n,
           int top_k, const int32_t* ids, const float* weights, float* y, const uint8_t* mask);

  // The model being loaded: its MoE layer count (the hot set is planned over all of them) and the
  // routing statistics saved for it (stats_path "" or no file: none). An existing slab is freed, so
  // the next MoE call builds it for this model: hot set from the statistics
  // (placement::plan_hot_set), else spread evenly over the layers.
  void begin_model(int n_moe_layers, const std::string& stats_path, const std::string& model_key);
  // Saves the routing statistics recorded so far to the file begin_model named (for the next load).
  Status save_stats() const;

  // Bytes of device memory for expert slots (0: automatic, see LoadOptions::gpu_expert_budget_bytes).
  // A change after the slab exists frees it; the next run() rebuilds it at the new size.
  void set_budget(int64_t bytes);

  // Re-placement from the statistics recorded so far (call between requests).
  Status replace(const placement::ReplaceOptions& opts = {});

  const HybridMoeCounts& counts() const { return counts_; }
  // Routing counts and residency of the layers seen so far ([layer * E + expert]).
  void heat(int* n_layers, int* n_experts, std::vector<double>* counts, std::vector<uint8_t>* on_gpu) const;
  const placement::RoutingStats& stats() const { return stats_; }

 private:
  struct Layer {
    const void *gate = nullptr, *up = nullptr, *down = nullptr;  // host weights (stacked [E, ...])
    uint64_t fingerprint = 0;        // of the host weights: a reused address is another layer
    std::vector<int32_t> slot_of;    // [E] slot or -1
    int32_t* d_slot_of = nullptr;
  };

  bool init_slab(const Tensor& gate);
  int layer_index(const Tensor& gate, const Tensor& up, const Tensor& down);
  placement::ModelSizes sizes() const;
  bool upload(int layer, int expert, int slot);
  bool sync_slot_table(int layer);
  void forget(int layer);
  void* scratch(int i, size_t bytes);
  int64_t budget_bytes() const;
  void free_slab();

  const kk_cuda_plugin* api_;
  kk_cuda_stream stream_;
  bool slab_ready_ = false, slab_failed_ = false;
  int64_t budget_ = 0;                      // asked for (0: automatic)
  int expected_layers_ = 0;                 // MoE layers of the model (0: unknown, fill as they come)
  std::string stats_path_, stats_key_;      // saved routing statistics of the model
  placement::Plan target_;                  // the hot set at load (valid when target_ready_)
  bool target_ready_ = false;
  int E_ = 0, inter_ = 0, hidden_ = 0;
  size_t proj_bytes_ = 0;                   // one projection of one expert
  block_q4 *gate_slab_ = nullptr, *up_slab_ = nullptr, *down_slab_ = nullptr;
  std::vector<int> free_slots_;
  std::unordered_map<const void*, int> layer_of_;
  std::vector<Layer> layers_;
  placement::RoutingStats stats_;
  placement::Plan plan_;                    // mirrors the slot tables
  DeviceScratch scratch_[6];
  HybridMoeCounts counts_;
};

}  // namespace kk

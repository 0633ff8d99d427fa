// cuda_hybrid_moe.cpp — hot experts on the GPU, cold ones on the CPU threads, same tokens, at once.
#include "backend_cuda/cuda_hybrid_moe.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>

#include "cpu/ops.h"

namespace kk {

namespace {

// Default share of the device's free memory (at the first MoE call) given to expert slots, and
// what is kept back for everything else that still has to come (activations, later weights).
// LoadOptions::gpu_expert_budget_bytes sets it; KK_CUDA_EXPERT_BUDGET_BYTES is the fallback when
// that is 0 (the GPU test binaries use it to force a hybrid split on a tiny model).
constexpr double kDefaultBudgetShare = 0.5;
constexpr int64_t kReserveBytes = int64_t(1) << 30;

// FNV-1a over a few samples of each projection: cheap, and different for any other weights.
uint64_t weights_fingerprint(const void* g, const void* u, const void* d, size_t bytes) {
  constexpr size_t kSample = 64;
  uint64_t h = 1469598103934665603ull;
  for (const void* p : {g, u, d}) {
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (size_t off : {size_t(0), bytes / 2, bytes - std::min(bytes, kSample)})
      for (size_t i = off; i < off + kSample && i < bytes; ++i) { h ^= b[i]; h *= 1099511628211ull; }
  }
  return h;
}

int64_t auto_budget_bytes(const kk_cuda_plugin* api) {
  if (const char* env = std::getenv("KK_CUDA_EXPERT_BUDGET_BYTES"); env && *env)
    return std::max<int64_t>(0, std::atoll(env));
  kk_cuda_device_info info;
  if (api->device_info(0, &info) != 0) return 0;
  return std::max<int64_t>(0, int64_t(double(info.free_bytes) * kDefaultBudgetShare) - kReserveBytes);
}

}  // namespace

HybridMoe::~HybridMoe() {
  free_slab();
  for (auto& b : scratch_) api_->dev_free(b.d);
}

void HybridMoe::free_slab() {
  for (auto& l : layers_) api_->dev_free(l.d_slot_of);
  for (void* p : {(void*)gate_slab_, (void*)up_slab_, (void*)down_slab_}) api_->dev_free(p);
  gate_slab_ = up_slab_ = down_slab_ = nullptr;
  layers_.clear();
  layer_of_.clear();
  free_slots_.clear();
  counts_.slots = 0;
  slab_ready_ = slab_failed_ = target_ready_ = false;
}

void HybridMoe::begin_model(int n_moe_layers, const std::string& stats_path, const std::string& model_key) {
  expected_layers_ = std::clamp(n_moe_layers, 0, kMaxLayers);
  stats_path_ = stats_path;
  stats_key_ = model_key;
  if (slab_ready_ || slab_failed_) free_slab();
}

Status HybridMoe::save_stats() const {
  if (stats_path_.empty() || !slab_ready_) return Status::OK();
  return stats_.save(stats_path_, stats_key_);
}

void HybridMoe::heat(int* n_layers, int* n_experts, std::vector<double>* counts, std::vector<uint8_t>* on_gpu) const {
  const int L = slab_ready_ ? int(layers_.size()) : 0;
  *n_layers = L;
  *n_experts = L ? E_ : 0;
  counts->assign(size_t(L) * (L ? E_ : 0), 0.0);
  on_gpu->assign(counts->size(), 0);
  for (int l = 0; l < L; ++l)
    for (int e = 0; e < E_; ++e) {
      (*counts)[size_t(l) * E_ + e] = stats_.count(l, e);
      (*on_gpu)[size_t(l) * E_ + e] = layers_[size_t(l)].slot_of[size_t(e)] >= 0;
    }
}

int64_t HybridMoe::budget_bytes() const { return budget_ > 0 ? budget_ : auto_budget_bytes(api_); }

void HybridMoe::set_budget(int64_t bytes) {
  bytes = std::max<int64_t>(0, bytes);
  if (bytes == budget_) return;
  budget_ = bytes;
  if (slab_ready_ || slab_failed_) free_slab();
}

void* HybridMoe::scratch(int i, size_t bytes) {
  return scratch_[i].ensure(api_, bytes);
}

bool HybridMoe::init_slab(const Tensor& gate) {
  slab_failed_ = true;  // until proven otherwise
  if (gate.type != DType::Q4 || gate.shape.size() != 3) return false;
  E_ = int(gate.shape[0]);
  inter_ = int(gate.shape[1]);
  hidden_ = int(gate.shape[2]);
  if (E_ <= 0 || inter_ % KK_Q4_GROUP || hidden_ % KK_Q4_GROUP) return false;
  proj_bytes_ = size_t(inter_) * hidden_ / KK_Q4_GROUP * sizeof(block_q4);
  int64_t slots = std::min<int64_t>(budget_bytes() / int64_t(3 * proj_bytes_), int64_t(kMaxLayers) * E_);
  // Shrink until the three slabs can be had.
  for (; slots > 0; slots /= 2) {
    gate_slab_ = static_cast<block_q4*>(api_->dev_alloc(proj_bytes_ * slots));
    up_slab_ = static_cast<block_q4*>(api_->dev_alloc(proj_bytes_ * slots));
    down_slab_ = static_cast<block_q4*>(api_->dev_alloc(proj_bytes_ * slots));
    if (gate_slab_ && up_slab_ && down_slab_) break;
    for (void* p : {(void*)gate_slab_, (void*)up_slab_, (void*)down_slab_}) api_->dev_free(p);
    gate_slab_ = up_slab_ = down_slab_ = nullptr;
  }
  free_slots_.clear();
  for (int64_t s = slots - 1; s >= 0; --s) free_slots_.push_back(int(s));
  counts_.slots = std::max<int64_t>(slots, 0);
  stats_ = placement::RoutingStats(kMaxLayers, E_);
  // Statistics saved for this model (same shape: they were recorded by this class) seed the live
  // ones, so the hot set at load is the one use has shown; a missing or foreign file: none.
  placement::RoutingStats saved;
  if (!stats_path_.empty() && placement::RoutingStats::load(stats_path_, stats_key_, &saved).ok() &&
      saved.n_layers() == kMaxLayers && saved.n_experts() == E_) {
    stats_ = std::move(saved);
    ++counts_.stats_loaded;
  }
  target_ready_ = expected_layers_ > 0 && slots > 0 &&
                  placement::plan_hot_set(expected_layers_, int64_t(3 * proj_bytes_), slots * int64_t(3 * proj_bytes_),
                                          stats_, &target_).ok();
  plan_ = placement::Plan();
  plan_.n_layers = kMaxLayers;
  plan_.n_experts = E_;
  plan_.non_expert_on_gpu = true;
  plan_.on_gpu.assign(size_t(kMaxLayers) * E_, 0);
  slab_failed_ = false;
  slab_ready_ = true;
  return true;
}

placement::ModelSizes HybridMoe::sizes() const {
  placement::ModelSizes s;
  s.n_experts = E_;
  s.expert_bytes.assign(kMaxLayers, 0);
  for (size_t l = 0; l < layers_.size(); ++l)
    if (layers_[l].gate) s.expert_bytes[l] = int64_t(3 * proj_bytes_);  // forgotten layers: none
  return s;
}

bool HybridMoe::upload(int layer, int expert, int slot) {
  const Layer& L = layers_[layer];
  const size_t off = size_t(expert) * proj_bytes_;
  auto src = [&](const void* base) { return static_cast<const char*>(base) + off; };
  auto dst = [&](block_q4* slab) { return reinterpret_cast<char*>(slab) + size_t(slot) * proj_bytes_; };
  return api_->memcpy_h2d(dst(gate_slab_), src(L.gate), proj_bytes_, stream_) == 0 &&
         api_->memcpy_h2d(dst(up_slab_), src(L.up), proj_bytes_, stream_) == 0 &&
         api_->memcpy_h2d(dst(down_slab_), src(L.down), proj_bytes_, stream_) == 0;
}

bool HybridMoe::sync_slot_table(int layer) {
  Layer& L = layers_[layer];
  return api_->memcpy_h2d(L.d_slot_of, L.slot_of.data(), sizeof(int32_t) * E_, stream_) == 0 &&
         api_->stream_sync(stream_) == 0;  // the host table may change again before the copy ran
}

void HybridMoe::forget(int layer) {
  Layer& L = layers_[layer];
  for (int e = 0; e < E_; ++e) {
    if (L.slot_of[e] >= 0) free_slots_.push_back(L.slot_of[e]);
    L.slot_of[e] = -1;
    plan_.on_gpu[size_t(layer) * E_ + e] = 0;
  }
  sync_slot_table(layer);
  layer_of_.erase(L.gate);
  L.gate = L.up = L.down = nullptr;  // the index stays taken; its statistics fade with no records
}

int HybridMoe::layer_index(const Tensor& gate, const Tensor& up, const Tensor& down) {
  const uint64_t fp = weights_fingerprint(gate.data, up.data, down.data, size_t(E_) * proj_bytes_);
  auto it = layer_of_.find(gate.data);
  if (it != layer_of_.end()) {
    const Layer& L = layers_[it->second];
    if (L.fingerprint == fp && L.up == up.data && L.down == down.data) return it->second;
    forget(it->second);  // same address, other weights: the old slots must not be used
  }
  if (int(layers_.size()) >= kMaxLayers) return -1;
  Layer L;
  L.fingerprint = fp;
  L.gate = gate.data;
  L.up = up.data;
  L.down = down.data;
  L.slot_of.assign(E_, -1);
  L.d_slot_of = static_cast<int32_t*>(api_->dev_alloc(sizeof(int32_t) * E_));
  if (!L.d_slot_of) return -1;
  layers_.push_back(std::move(L));
  const int l = int(layers_.size()) - 1;
  layer_of_[gate.data] = l;
  if (!sync_slot_table(l)) return -1;
  if (target_ready_ && l < target_.n_layers) {
    // The model's MoE layer count is known: this layer gets its part of the hot set planned at
    // load (from saved statistics, else an even spread), so the first layers do not take it all.
    for (int e = 0; e < E_ && !free_slots_.empty(); ++e) {
      if (!target_.resident(l, e)) continue;
      const int s = free_slots_.back();
      if (!upload(l, e, s)) return -1;
      free_slots_.pop_back();
      layers_[l].slot_of[e] = s;
      plan_.on_gpu[size_t(l) * E_ + e] = 1;
      ++counts_.uploads;
    }
    return sync_slot_table(l) ? l : -1;
  }
  // Unknown model shape: a new layer only takes slots that are free (its first experts); displacing
  // other layers' experts waits for replace() between requests, so a first forward does not churn.
  placement::ReplaceOptions fill_only;
  fill_only.hysteresis = std::numeric_limits<double>::infinity();
  if (!replace(fill_only).ok()) return -1;
  return l;
}

Status HybridMoe::replace(const placement::ReplaceOptions& opts) {
  if (!slab_ready_) return Status::OK();
  placement::Delta d;
  const int64_t budget = counts_.slots * int64_t(3 * proj_bytes_);
  KK_RETURN_IF_ERROR(placement::plan_replacement(sizes(), budget, stats_, {}, opts, plan_, &d));
  std::vector<uint8_t> changed(layers_.size(), 0);
  for (const auto& r : d.evict) {
    int32_t& s = layers_[r.layer].slot_of[r.expert];
    if (s >= 0) free_slots_.push_back(s);
    s = -1;
    changed[r.layer] = 1;
    ++counts_.evictions;
  }
  // Tables first, so no layer points at a slot that is about to be overwritten.
  for (size_t l = 0; l < layers_.size(); ++l)
    if (changed[l] && !sync_slot_table(int(l))) return Status::Error("CUDA: expert table update failed");
  for (const auto& r : d.upload) {
    if (free_slots_.empty()) return Status::Error("CUDA: expert slab out of slots (placement bug)");
    const int s = free_slots_.back();
    if (!upload(r.layer, r.expert, s)) return Status::Error(std::string("CUDA: expert upload failed: ") + api_->last_error());
    free_slots_.pop_back();
    layers_[r.layer].slot_of[r.expert] = s;
    changed[r.layer] = 1;
    ++counts_.uploads;
  }
  for (size_t l = 0; l < layers_.size(); ++l)
    if (changed[l] && !sync_slot_table(int(l))) return Status::Error("CUDA: expert table update failed");
  plan_ = std::move(d.next);
  return Status::OK();
}

bool HybridMoe::run(const OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& down, const float* x,
                    int64_t n, int top_k, const int32_t* ids, const float* weights, float* y, const uint8_t* mask) {
  if (!slab_ready_ && (slab_failed_ || !init_slab(gate))) return false;
  const bool same_shape = gate.type == DType::Q4 && up.type == DType::Q4 && down.type == DType::Q4 &&
                          gate.shape == std::vector<int64_t>{E_, inter_, hidden_} && up.shape == gate.shape &&
                          down.shape == std::vector<int64_t>{E_, hidden_, inter_};
  if (!same_shape || n > INT32_MAX || top_k <= 0) return false;
  const int l = layer_index(gate, up, down);
  if (l < 0) return false;
  const Layer& L = layers_[l];
  stats_.record(l, ids, n, top_k);  // out-of-range ids: not recorded; both halves skip them

  std::vector<uint8_t> cold(E_, 0);
  std::vector<int32_t> slot = L.slot_of;
  for (int e = 0; e < E_; ++e) {
    const bool wanted = !mask || mask[e];
    cold[e] = wanted && slot[e] < 0;
    if (!wanted) slot[e] = -1;
  }
  int64_t hot_pairs = 0, cold_pairs = 0;
  for (int64_t p = 0; p < n * top_k; ++p) {
    const int e = ids[p];
    if (e < 0 || e >= E_) continue;
    hot_pairs += slot[e] >= 0;
    cold_pairs += cold[e];
  }
  ++counts_.calls;
  if (hot_pairs == 0) {  // nothing resident for these tokens: the CPU does it all
    cpu::moe(ctx, gate, up, down, x, n, top_k, ids, weights, y, cold.data());
    counts_.cpu_pairs += cold_pairs;
    return true;
  }
  // GPU part, enqueued first so it runs while the CPU threads compute the cold experts.
  const kk_moe_args a{int(n), top_k, hidden_, inter_, E_, 0};
  const size_t xb = sizeof(float) * size_t(n) * hidden_, pb = sizeof(int32_t) * size_t(n) * top_k;
  float* dx = static_cast<float*>(scratch(0, xb));
  float* dy = static_cast<float*>(scratch(1, xb));
  int32_t* dids = static_cast<int32_t*>(scratch(2, pb));
  float* dw = static_cast<float*>(scratch(3, pb));
  int32_t* dslot = mask ? static_cast<int32_t*>(scratch(4, sizeof(int32_t) * E_)) : L.d_slot_of;
  void* ws = scratch(5, api_->moe_workspace_bytes(&a));
  if (!dx || !dy || !dids || !dw || !dslot || !ws) return false;
  if (api_->memcpy_h2d(dx, x, xb, stream_) || api_->memcpy_h2d(dids, ids, pb, stream_) ||
      api_->memcpy_h2d(dw, weights, pb, stream_) ||
      (mask && api_->memcpy_h2d(dslot, slot.data(), sizeof(int32_t) * E_, stream_)))
    return false;
  if (api_->moe_q4(&a, gate_slab_, up_slab_, down_slab_, dslot, dx, dids, dw, dy, ws, stream_) != 0) return false;
  std::vector<float> gpu(size_t(n) * hidden_);
  if (cold_pairs > 0) cpu::moe(ctx, gate, up, down, x, n, top_k, ids, weights, y, cold.data());
  if (api_->memcpy_d2h(gpu.data(), dy, xb, stream_) != 0 || api_->stream_sync(stream_) != 0) return false;
  // The two partial sums (this backend hands results back to the host, so they meet here).
  if (cold_pairs > 0)
    for (size_t i = 0; i < gpu.size(); ++i) y[i] += gpu[i];
  else
    std::copy(gpu.begin(), gpu.end(), y);
  counts_.gpu_pairs += hot_pairs;
  counts_.cpu_pairs += cold_pairs;
  return true;
}

}  // namespace kk

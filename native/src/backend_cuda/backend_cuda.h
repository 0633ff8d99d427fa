// backend_cuda.h — the "cuda" entry of the backend table (backend/backend.h), over the plugin.
//
// A first, correctness-first device backend: weights are uploaded once on first use and stay
// resident (a cache keyed by host pointer, verified by a content fingerprint) — except routed
// experts, which go through the hybrid MoE (cuda_hybrid_moe.h): the hot ones in a budgeted slab of
// device slots, the cold ones computed by the CPU threads at the same time; activations travel
// host -> device -> host per op, because the backend table is host-pointer based. Ops and weight
// types it does not run (or any CUDA failure, e.g. out of device memory) fall back to the CPU op,
// so results never depend on whether the GPU could take an op. A weight that does not fit even after
// the cache is emptied stays on the CPU for good. The hybrid MoE step, device-resident
// activations and placement-driven residency come next (docs/cuda.md).
#pragma once
#include "backend/backend.h"
#include <cstdint>
#include <string>
#include <vector>
#include "core/status.h"

namespace kk {

// The CUDA backend when the plugin loads and a device is usable; otherwise a Status that says why
// (no plugin, no driver, no device).
Status backend_cuda(const Backend** out);

// Ops the CUDA backend ran on the device (a hybrid MoE call counts as one), and ops it handed to
// the CPU after a CUDA failure (ops it never claims, per supports(), are not counted); and the
// hybrid MoE's split and expert moves (cuda_hybrid_moe.h). For tests and benches.
struct CudaBackendCounts {
  int64_t device_ops = 0, cpu_fallbacks = 0;
  int64_t moe_gpu_pairs = 0, moe_cpu_pairs = 0;  // (token, expert) pairs computed on each side
  int64_t expert_uploads = 0, expert_evictions = 0, expert_slots = 0;
  int64_t routing_stats_loaded = 0;  // slabs whose hot set came from a saved statistics file
};
CudaBackendCounts cuda_backend_counts();

// The VRAM budget of the hot-expert slab (LoadOptions::gpu_expert_budget_bytes; 0: automatic).
// Called by the engine at load; a budget other than the current slab's frees the slab, and the
// next MoE call rebuilds it (layers re-register and re-upload, so live engines stay correct).
void cuda_backend_set_expert_budget(int64_t bytes);

// The engine at load: the model's MoE layer count and its routing-statistics file (next to the
// model; read when the slab is built, so the hot set at load follows the saved use) — and at
// unload, saving the statistics to that file. See HybridMoe::begin_model.
void cuda_backend_begin_model(int n_moe_layers, const std::string& stats_path, const std::string& model_key);
Status cuda_backend_save_routing_stats();

// The hybrid MoE's heat map (HybridMoe::heat); all empty when the backend was never opened.
void cuda_backend_expert_heat(int* n_layers, int* n_experts, std::vector<double>* counts, std::vector<uint8_t>* on_gpu);

// Moves the GPU's hot expert set towards the routing statistics collected so far (placement
// policy with hysteresis); the engine calls it between requests. No-op before the first MoE call.
// max_upload_bytes caps the bytes copied by this call (0: no cap).
Status cuda_backend_replace_experts(int64_t max_upload_bytes = 0);

}  // namespace kk

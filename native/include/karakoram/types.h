// karakoram/types.h — the engine's value types, shared by the public API and by the model,
// loader and sampler inside it (which need these and nothing of the Engine class).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kk {

struct LoadOptions {
  std::string backend = "cpu";   // "cpu" | "cuda" (when built) — per-op fallback to cpu
  std::string mode = "exact";    // "exact": fp32 activations; "fast": int8 activations for INT4
  bool requantize = true;        // convert bf16/FP8 routed experts to INT4 (group 32, symmetric)
  int threads = 0;               // 0: all hardware threads
  int max_sequences = 8;         // scheduler: sequences decoding at once (more requests wait)
  int max_context = 0;           // tokens per sequence (0: the model's max_position_embeddings);
                                 // a limit, not a reservation: the KV pool is shared
  int64_t kv_budget_bytes = 0;   // KV block pool (0: a share of the free RAM at load)
  int prefill_chunk = 512;       // scheduler: prompt tokens read per step alongside the decodes
  // Latent KV cache precision: "fp32" | "bf16" | "fp8" (e4m3 with a per-row scale); "" picks
  // fp32 in exact mode (the only one it takes) and the measured fast-mode default
  // (kDefaultFastKvDtype, docs/engine-sessions.md) in fast mode.
  std::string kv_dtype;
  // CPU backend: repack Q4 matrices into 16-row interleaved blocks (block_q4x16) at load when
  // the CPU kernels run faster on them; false keeps block_q4 rows (for A/B measurements).
  bool repack_q4 = true;
  // Non-empty (and with the repack above in effect): the repacked routed experts are written
  // once under this folder, keyed by the checkpoint's files and the layout version, and mapped
  // read-only on later loads (a damaged or stale file is rebuilt). Empty: no cache.
  std::string layout_cache_dir;
  // "cuda" backend: device memory for the hot routed experts' slots (the hybrid MoE's slab).
  // 0: automatic — KK_CUDA_EXPERT_BUDGET_BYTES if set, else half the device's free memory at the
  // first MoE call minus 1 GiB. The slab is one per process: a load with another budget rebuilds it.
  int64_t gpu_expert_budget_bytes = 0;
  // "cuda" backend: the folder holding this model's routing statistics (the app passes the model's
  // own folder): read when the hot-expert slab is built, so the hot set at load follows saved use,
  // and written at unload. Empty: none kept (the hot set is spread evenly over the MoE layers).
  std::string routing_stats_dir;
};

// stage: "validate" | "weights" | "repack"; fraction in [0, 1]
using ProgressFn = std::function<void(const std::string& stage, double fraction)>;

struct SamplingParams {
  float temperature = 0.f;        // 0 = greedy
  int top_k = 0;                  // 0 = off
  float top_p = 1.f;
  float min_p = 0.f;
  float repetition_penalty = 1.f; // HF semantics (divide positive logits, multiply negative)
  float presence_penalty = 0.f;   // OpenAI semantics (subtract once per seen token)
  float frequency_penalty = 0.f;
  uint64_t seed = 0;
  std::vector<int32_t> stop_ids;
  int max_tokens = 256;
};

struct GenerateResult {
  std::vector<int32_t> output_ids;
  std::string finish_reason;      // "stop" | "length" | "cancelled"
  int prompt_tokens = 0, completion_tokens = 0;
  int cached_tokens = 0;          // prompt tokens served from the prefix cache (not prefilled)
  double prefill_ms = 0, decode_ms = 0;  // time to first token ≈ prefill_ms
};

// What a forward can hand back besides the last-token logits (for eval and tests).
struct ForwardRequest {
  bool all_logits = false;   // logits for every token, not just the last
  bool hidden = false;       // hidden[0..n_layers+1]: embedding, after each layer, final norm
  bool router_topk = false;  // per MoE layer, the chosen experts per token (sorted)
};
struct ForwardResult {
  std::vector<float> logits;                     // [n or 1][vocab]
  std::vector<std::vector<float>> hidden;        // [n_layers + 2][n][hidden]
  std::vector<std::vector<int32_t>> router_topk; // [n_layers][n][top_k] (empty for dense layers)
};

using SeqId = int32_t;
using TokenFn = std::function<bool(int32_t token)>;  // return false to cancel
// Prompt processing: called after each prefill chunk with the prompt tokens done so far (the last
// call has done == total), so a UI can show progress on long prompts.
using PrefillFn = std::function<void(int done, int total)>;

}  // namespace kk

// karakoram/engine.h — the engine's public C++ API. The N-API binding (native/binding/) and the
// stand-alone tools (native/tools/) use only this header (and karakoram/tools.h). Nothing here
// aborts: calls return Status.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "core/status.h"
#include "karakoram/types.h"

namespace kk {

struct ModelInfo {
  std::string model_type, architecture, quantization;  // quantization: "int4-compressed-tensors" | "fp8-block" | "bf16" | ...
  int n_layers = 0, n_dense_layers = 0, hidden = 0, n_heads = 0, vocab = 0;
  int n_experts = 0, top_k = 0, n_shared_experts = 0, moe_intermediate = 0;
  int q_lora_rank = 0, kv_lora_rank = 0, max_position = 0;
  int64_t n_params = 0;            // parameters, counted as stored
  int64_t bytes_weights = 0;       // resident weight bytes after load
  int64_t bytes_experts = 0;       // of which routed experts
  int64_t kv_bytes_per_token = 0;  // latent cache, all layers, in its precision
  std::string kv_dtype = "fp32";   // latent cache precision: "fp32" | "bf16" | "fp8"
  int bos_id = -1, eos_id = -1;
  std::string backend, kernels;    // e.g. "cpu", "avx512_vnni"
  std::string q4_layout = "rows";  // "rows" (block_q4) | "x16" (block_q4x16, repacked at load)
};

class Engine {
 public:
  static Status load(const std::string& dir, const LoadOptions& opts, const ProgressFn& progress,
                     std::unique_ptr<Engine>* out);
  virtual ~Engine() = default;
  virtual const ModelInfo& info() const = 0;

  // Sequences: block tables into the shared KV pool (low level; generate/submit manage their own).
  virtual Status new_sequence(SeqId* out) = 0;
  // A new sequence sharing the first n_prefix cached tokens of src (copy-on-fork).
  virtual Status fork_sequence(SeqId src, int n_prefix, SeqId* out) = 0;
  virtual void free_sequence(SeqId seq) = 0;
  virtual int sequence_length(SeqId seq) const = 0;

  // Appends tokens to a sequence (prefill when n > 1, decode when n == 1) and returns outputs.
  virtual Status forward(SeqId seq, const int32_t* ids, int n, const ForwardRequest& req,
                         ForwardResult* out) = 0;
  // One decode step for several sequences at once (each appends one token); logits[i] per seq.
  virtual Status decode_batch(const std::vector<SeqId>& seqs, const std::vector<int32_t>& ids,
                              std::vector<std::vector<float>>* logits) = 0;

  // One request through the scheduler (continuous batching): it starts from the longest cached
  // prefix of `prompt`, joins the running batch, and returns when it finishes. Many threads may
  // call generate at once. on_token sees each new id (return false to cancel), on_prefill
  // (optional) the prompt-processing progress.
  virtual Status generate(const std::vector<int32_t>& prompt, const SamplingParams& sp,
                          const TokenFn& on_token, GenerateResult* out,
                          const PrefillFn& on_prefill = nullptr) = 0;

  // The same, asynchronous: submit returns at once; callbacks run on the scheduler's thread and
  // must be quick. on_done is called exactly once (also after cancel()).
  struct Request {
    std::vector<int32_t> prompt;
    SamplingParams sampling;
    int priority = 0;  // higher first, among waiting requests; ties in arrival order
  };
  struct Callbacks {
    TokenFn on_token;
    PrefillFn on_prefill;
    std::function<void(const Status&, const GenerateResult&)> on_done;
  };
  using RequestId = int64_t;
  virtual Status submit(Request req, Callbacks cb, RequestId* id) = 0;
  virtual void cancel(RequestId id) = 0;

  struct CacheStats {
    int64_t block_tokens = 0, blocks_total = 0, blocks_free = 0;
    int64_t cached_tokens = 0;    // tokens held by the prefix cache
    int64_t bytes_per_token = 0;  // latent cache, all layers, as stored
    int64_t running = 0, waiting = 0;
    int64_t hit_tokens = 0, prompt_tokens = 0;  // totals since load: served from cache / all
  };
  virtual CacheStats cache_stats() const = 0;
  // Frees every cached block no running sequence holds.
  virtual void clear_cache() = 0;

  // KV snapshots: the cached KV of `prompt`'s longest cached prefix written to `path` (with the
  // model's fingerprint, the token ids, dtype and a checksum); restore reads one back into the
  // prefix cache after checking it belongs to this model and to `prompt` (a file for another
  // model or prefix, or a corrupted or truncated one, is refused with a message saying which).
  virtual Status save_snapshot(const std::vector<int32_t>& prompt, const std::string& path,
                               int64_t* tokens_saved) = 0;
  virtual Status restore_snapshot(const std::string& path, const std::vector<int32_t>& prompt,
                                  int64_t* tokens_restored) = 0;

  struct MemoryStats { int64_t weights_bytes, kv_bytes_used, kv_bytes_capacity, rss_bytes; };
  virtual MemoryStats memory_stats() const = 0;
};

}  // namespace kk

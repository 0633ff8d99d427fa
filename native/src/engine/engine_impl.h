// engine_impl.h — the Engine behind the public API (internal: tools and tests may use it to build
// an engine from in-memory weights or to reach the model).
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include "core/thread_pool.h"
#include "engine/kv_pool.h"
#include "engine/scheduler.h"
#include "karakoram/engine.h"
#include "model/model.h"

namespace kk {

class EngineImpl : public Engine {
 public:
  // Builds an engine over already-loaded weights (the loader's output or a synthetic model).
  static Status create(ModelWeights&& w, const LoadOptions& opts, std::unique_ptr<EngineImpl>* out);
  ~EngineImpl() override;

  const ModelInfo& info() const override { return info_; }
  Status new_sequence(SeqId* out) override;
  Status fork_sequence(SeqId src, int n_prefix, SeqId* out) override;
  void free_sequence(SeqId seq) override;
  int sequence_length(SeqId seq) const override;
  Status forward(SeqId seq, const int32_t* ids, int n, const ForwardRequest& req,
                 ForwardResult* out) override;
  Status decode_batch(const std::vector<SeqId>& seqs, const std::vector<int32_t>& ids,
                      std::vector<std::vector<float>>* logits) override;
  Status generate(const std::vector<int32_t>& prompt, const SamplingParams& sp,
                  const TokenFn& on_token, GenerateResult* out,
                  const PrefillFn& on_prefill = nullptr) override;
  Status submit(Request req, Callbacks cb, RequestId* id) override;
  void cancel(RequestId id) override;
  CacheStats cache_stats() const override;
  void clear_cache() override;
  Status save_snapshot(const std::vector<int32_t>& prompt, const std::string& path,
                       int64_t* tokens_saved) override;
  Status restore_snapshot(const std::string& path, const std::vector<int32_t>& prompt,
                          int64_t* tokens_restored) override;
  MemoryStats memory_stats() const override;

  // Internals for the scheduler, tests and the bench.
  const Model& model() const { return model_; }
  const OpDispatch& ops() const { return ops_; }
  ThreadPool& thread_pool() { return *pool_threads_; }
  KvView kv_view(SeqId seq) const { std::lock_guard<std::mutex> g(pool_mu_); return pool_.view(seq); }
  Scheduler& scheduler() { return *scheduler_; }
  int64_t max_context() const { return max_context_; }
  // With the pool's lock held (tests check its accounting; snapshots read and write blocks).
  template <class F> auto with_pool(F f) const { std::lock_guard<std::mutex> g(pool_mu_); return f(pool_); }
  template <class F> auto with_pool(F f) { std::lock_guard<std::mutex> g(pool_mu_); return f(pool_); }
  // A 64-bit identity of the model: its config and a sample of every weight tensor's bytes.
  uint64_t fingerprint() const { return fingerprint_; }
  // "cuda" backend: the model's MoE layer count, and its routing statistics in `dir` (a per-model
  // file name, RoutingStats::file_name_for; "" none), read when the hot-expert slab is built and
  // saved at unload.
  void use_routing_stats_in(const std::string& dir);
  bool on_cuda() const { return on_cuda_; }
  // Called by the scheduler's thread when the last running request has ended and none waits:
  // on the CUDA backend, one bounded re-placement of the hot experts towards the live statistics.
  void between_requests();
  int64_t replacements() const { return replacements_.load(); }  // re-placements run (tests)

  // forward() with model-level options (profile, forced absorbed attention); on_chunk sees the
  // tokens done after each prefill chunk.
  Status forward_ex(SeqId seq, const int32_t* ids, int n, const ForwardOptions& fo, ForwardResult* out,
                    const PrefillFn& on_chunk = nullptr);
  Status decode_batch_ex(const std::vector<SeqId>& seqs, const std::vector<int32_t>& ids,
                         Profile* profile, std::vector<std::vector<float>>* logits);

  // One batched forward over several sequences: item i appends ids[0..n) to seq and gets the
  // logits of its last token. When a sequence cannot take its tokens (context limit, pool
  // exhausted) the error names it and *failed is its index; nothing ran.
  struct StepItem { SeqId seq; const int32_t* ids; int n; };
  Status run_step(const std::vector<StepItem>& items, std::vector<std::vector<float>>* logits,
                  int* failed, const ForwardOptions& fo = ForwardOptions(), ForwardResult* full = nullptr);
  Status check_request(const std::vector<int32_t>& prompt) const;
  // A sequence for a new request, holding the longest cached prefix of prompt[0..n-1).
  Status open_sequence(const std::vector<int32_t>& prompt, SeqId* seq, int64_t* cached);
  // The request is over: its tokens go to the prefix cache (when `keep`) and the sequence goes.
  void close_sequence(SeqId seq, bool keep);

 private:
  Status check_ids(const int32_t* ids, int n) const;
  ModelInfo info_;
  Model model_;
  std::unique_ptr<ThreadPool> pool_threads_;
  OpDispatch ops_;
  KvPool pool_;
  int64_t max_context_ = 0;
  uint64_t fingerprint_ = 0;
  bool on_cuda_ = false, save_routing_stats_ = false;
  std::atomic<int64_t> replacements_{0};
  std::atomic<int64_t> hit_tokens_{0}, prompt_tokens_{0};
  mutable std::mutex run_mu_;   // one forward at a time (the thread pool is not re-entrant)
  mutable std::mutex pool_mu_;  // sequences and blocks
  std::unique_ptr<Scheduler> scheduler_;  // last: goes first, while the pool still exists
};

}  // namespace kk

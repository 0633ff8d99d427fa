// engine_impl.h — the Engine behind the public API (internal: tools and tests may use it to build
// an engine from in-memory weights or to reach the model).
#pragma once
#include <memory>
#include <mutex>
#include "core/thread_pool.h"
#include "engine/kv_pool.h"
#include "karakoram/engine.h"
#include "model/model.h"

namespace kk {

class EngineImpl : public Engine {
 public:
  // Builds an engine over already-loaded weights (the loader's output or a synthetic model).
  static Status create(ModelWeights&& w, const LoadOptions& opts, std::unique_ptr<EngineImpl>* out);

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
  MemoryStats memory_stats() const override;

  // Internals for tests and the bench.
  const Model& model() const { return model_; }
  const OpDispatch& ops() const { return ops_; }
  ThreadPool& thread_pool() { return *pool_threads_; }
  KvView kv_view(SeqId seq) const { return pool_.view(seq); }
  // forward() with model-level options (profile, forced absorbed attention); on_chunk sees the
  // tokens done after each prefill chunk.
  Status forward_ex(SeqId seq, const int32_t* ids, int n, const ForwardOptions& fo, ForwardResult* out,
                    const PrefillFn& on_chunk = nullptr);
  Status decode_batch_ex(const std::vector<SeqId>& seqs, const std::vector<int32_t>& ids,
                         Profile* profile, std::vector<std::vector<float>>* logits);

 private:
  Status check_ids(const int32_t* ids, int n) const;
  ModelInfo info_;
  Model model_;
  std::unique_ptr<ThreadPool> pool_threads_;
  OpDispatch ops_;
  KvPool pool_;
  mutable std::mutex run_mu_;   // one forward at a time (the thread pool is not re-entrant)
  mutable std::mutex pool_mu_;  // sequence bookkeeping
};

}  // namespace kk

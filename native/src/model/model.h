// model.h — the K2 / DeepSeek-V3 forward over a batch of token spans, each span the next tokens
// of one sequence with its own latent KV cache.
#pragma once
#include <cstdint>
#include <vector>
#include "backend/backend.h"
#include "core/kv_pages.h"
#include "karakoram/types.h"
#include "model/profile.h"
#include "model/rope.h"
#include "model/weights.h"

namespace kk {

// The latent cache of one sequence: a table of blocks in the engine's block pool; block b holds
// block_tokens rows of every layer ([layer][token][c_kv (kv_lora_rank) | k_pe (rope dim)]) in the
// pool's precision (kernels/common/kk_kv.h).
struct KvView {
  uint8_t* pool = nullptr;        // block 0 of the pool
  std::vector<int32_t> table;     // the sequence's blocks in token order
  int64_t block_bytes = 0;        // stride between blocks
  int64_t block_tokens = 0, row = 0, row_bytes = 0;
  int dtype = KK_KV_F32;
  uint8_t* row_ptr(int l, int64_t t) const {
    return pool + table[t / block_tokens] * block_bytes + (l * block_tokens + t % block_tokens) * row_bytes;
  }
  // Stores row t of layer l from `row` fp32 values, rounded to the pool's precision.
  void write_row(int l, int64_t t, const float* v) const { kk_kv_store_row(v, int(row), dtype, row_ptr(l, t)); }
  // Layer l as the attention ops read it: one pointer per block (kept in *ptrs).
  KvPages layer(int l, std::vector<const uint8_t*>* ptrs) const {
    ptrs->resize(table.size());
    for (size_t b = 0; b < table.size(); ++b) (*ptrs)[b] = pool + table[b] * block_bytes + l * block_tokens * row_bytes;
    return KvPages{ptrs->data(), block_tokens, row, dtype, row_bytes};
  }
};

// `n` new tokens of one sequence at positions pos0 .. pos0+n-1 (cache rows < pos0 already filled).
struct Span { KvView kv; int64_t pos0 = 0, n = 0; };

struct Batch {
  const int32_t* ids = nullptr;  // all spans' tokens, span after span
  std::vector<Span> spans;
  int64_t n_tokens() const { int64_t n = 0; for (auto& s : spans) n += s.n; return n; }
};

struct ForwardOptions {
  bool all_logits = false;      // logits for every token (else: the last token of each span)
  bool hidden = false;          // capture hidden states (embedding, each layer, final norm)
  bool router_topk = false;     // capture each MoE layer's chosen experts
  bool force_absorbed = false;  // spans of n > 1 use the absorbed (decode) attention too
  Profile* profile = nullptr;
};

class Model {
 public:
  // Takes the weights and derives what the absorbed attention needs (per head W_UKᵀ and W_UV).
  Status init(ModelWeights&& w);
  const ModelConfig& config() const { return w_.config; }
  const ModelWeights& weights() const { return w_; }
  const Rope& rope() const { return rope_; }
  int kv_row() const { return w_.config.kv_lora_rank + w_.config.qk_rope_head_dim; }
  int64_t derived_bytes() const { return derived_bytes_; }

  // Load-time repack for the CPU kernels (model/repack.cpp): every Q4 matrix the forward runs
  // through matmul/moe -> Q4X16 (16-row interleaved blocks). The embedding and lm_head stay as
  // they are (they may alias each other, and the embedding is read by row). Counts the bytes.
  Status repack_q4x16(ThreadPool* pool, int64_t* bytes_repacked);

  // Runs the batch, writes every new token's latent + rope key into its span's cache, and fills
  // out->logits ([n_tokens or n_spans][vocab]) and the captures `opt` asks for.
  void forward(const OpDispatch& ops, const Batch& b, const ForwardOptions& opt,
               ForwardResult* out) const;

  // One attention block (exposed for the naive vs absorbed test). h [n][hidden] -> out [n][hidden].
  void attention(const OpDispatch& ops, int l, const Batch& b, const float* h, bool absorbed,
                 float* out, Profile* profile = nullptr) const;

 private:
  void embed(const int32_t* ids, int64_t n, float* x) const;
  void mlp(const OpDispatch& ops, const MlpWeights& m, const float* h, int64_t n, float* out) const;
  void moe(const OpDispatch& ops, int l, const float* h, int64_t n, float* out,
           std::vector<int32_t>* topk, Profile* profile) const;
  void attend_naive(const OpDispatch& ops, int l, const Span& s, const float* q, float* o) const;
  void attend_absorbed(const OpDispatch& ops, int l, const Batch& b, const float* q, float* o,
                       bool all) const;

  ModelWeights w_;
  Rope rope_;
  struct Absorbed {
    Tensor uk_t;  // [H, R, dn]: q_lat[h] = W_UK[h]ᵀ·q_nope[h]
    Tensor uv;    // [H, dv, R]: o[h] = W_UV[h]·o_lat[h]
  };
  std::vector<Absorbed> absorbed_;
  int64_t derived_bytes_ = 0;
};

}  // namespace kk

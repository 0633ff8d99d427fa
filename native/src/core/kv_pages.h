// kv_pages.h — how an attention op sees one layer of one sequence's paged latent cache.
// The engine keeps the latent KV ([c_kv (R) | k_pe (P)] per token) in fixed-size blocks drawn from
// one pool; a sequence is a table of blocks. For one layer that is a list of block pointers:
// row t lives at blocks[t / block_tokens] + (t % block_tokens) * row.
#pragma once
#include <cstdint>
#include <vector>

namespace kk {

struct KvPages {
  const float* const* blocks = nullptr;  // one pointer per block (this layer's rows)
  int64_t block_tokens = 0;              // rows per block
  int64_t row = 0;                       // floats per row (R + P)
  const float* row_at(int64_t t) const { return blocks[t / block_tokens] + (t % block_tokens) * row; }

  // A contiguous cache of n_ctx rows seen as a single block (tests, and backends that gather).
  static KvPages contiguous(const float* cache, int64_t n_ctx, int64_t row, std::vector<const float*>* storage) {
    storage->assign(1, cache);
    return KvPages{storage->data(), n_ctx > 0 ? n_ctx : 1, row};
  }
  // Copies rows [0, n_ctx) into one contiguous buffer (for a backend that wants them in one piece).
  void gather(int64_t n_ctx, float* out) const {
    for (int64_t t = 0; t < n_ctx; t += block_tokens) {
      const int64_t m = (n_ctx - t < block_tokens ? n_ctx - t : block_tokens) * row;
      const float* src = blocks[t / block_tokens];
      for (int64_t i = 0; i < m; ++i) out[t * row + i] = src[i];
    }
  }
};

}  // namespace kk

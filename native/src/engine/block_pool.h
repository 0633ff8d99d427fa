// block_pool.h — the latent KV cache's storage: one pool of fixed-size blocks under a byte budget.
// A block holds kBlockTokens tokens of every layer: [layer][token][c_kv (R) | k_pe (P)] rows in the
// cache precision and byte layout of kernels/common/kk_kv.h (fp32, bf16 or fp8 with a row scale).
// Blocks are reference counted (each sequence whose table holds it, plus the prefix cache when it
// is cached there); a block is writable only by a sequence that holds the sole reference. The
// whole budget is reserved as virtual memory up front; pages are committed when a block is first
// written and handed back to the OS when the block returns to the free list.
#pragma once
#include <cstdint>
#include <vector>
#include "core/status.h"
#include "kk_kv.h"

namespace kk {

// Tokens per block: small enough that a short prompt wastes little, large enough that a block
// table stays short and an attention chunk reads long contiguous runs.
constexpr int kBlockTokens = 64;

class BlockPool {
 public:
  BlockPool() = default;
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // row: values per token and layer (R + P); dtype: KK_KV_F32 | KK_KV_BF16 | KK_KV_FP8.
  Status init(int64_t budget_bytes, int n_layers, int row, int dtype = KK_KV_F32, int block_tokens = kBlockTokens);
  // A free block with one reference; false when every block is taken.
  bool alloc(int32_t* block);
  void ref(int32_t block) { ++refs_[block]; }
  void unref(int32_t block);  // at zero the block goes back to the free list
  int refs(int32_t block) const { return refs_[block]; }

  uint8_t* data(int32_t block) const { return base_ + size_t(block) * block_bytes_; }
  int block_tokens() const { return block_tokens_; }
  int n_layers() const { return n_layers_; }
  int row() const { return row_; }              // values per row
  int row_bytes() const { return row_bytes_; }  // KK_KV_ROW_BYTES(dtype, row)
  int dtype() const { return dtype_; }
  int64_t n_blocks() const { return int64_t(refs_.size()); }
  int64_t n_free() const { return int64_t(free_.size()); }
  int64_t block_bytes() const { return int64_t(block_bytes_); }
  // What one cached token costs (all layers, as stored; block padding to pages not counted).
  int64_t bytes_per_token() const { return int64_t(n_layers_) * row_bytes_; }

 private:
  uint8_t* base_ = nullptr;
  size_t mapped_bytes_ = 0, block_bytes_ = 0;
  int n_layers_ = 0, row_ = 0, row_bytes_ = 0, dtype_ = KK_KV_F32, block_tokens_ = 0;
  std::vector<int32_t> refs_;
  std::vector<int32_t> free_;  // a stack: the most recently freed block is reused first
};

}  // namespace kk

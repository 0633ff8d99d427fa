// kv_pool.h — sequences over the paged latent cache: each sequence is a block table into one
// BlockPool plus the token ids it has cached, and a PrefixCache lets a new sequence start from the
// longest cached prefix of its prompt. No sequence reserves a context up front: blocks are taken
// as tokens arrive (reserve()), evicting unreferenced cached blocks (LRU) when the pool is full,
// so one sequence may use the whole pool. Not thread-safe: the engine guards it with a mutex.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>
#include "core/status.h"
#include "engine/block_pool.h"
#include "engine/prefix_cache.h"
#include "model/model.h"

namespace kk {

class KvPool {
 public:
  KvPool() : cache_(&blocks_) {}
  Status init(int64_t budget_bytes, int n_layers, int row, int dtype = KK_KV_F32, int block_tokens = kBlockTokens);

  Status alloc(int32_t* seq);
  void release(int32_t seq);  // drops the sequence's references (cached blocks stay cached)
  bool valid(int32_t seq) const { return seqs_.count(seq) > 0; }
  int64_t length(int32_t seq) const;
  const std::vector<int32_t>& tokens(int32_t seq) const { return seqs_.at(seq).tokens; }

  // Makes rows [length, new_len) writable: copies a shared block that holds any of them
  // (copy-on-write) and takes new blocks, evicting cached ones if needed. On failure (the pool is
  // full of blocks running sequences hold) nothing changes and the message says so.
  Status reserve(int32_t seq, int64_t new_len);
  // Records that ids[0..n) now sit in rows [length, length+n) (after a successful forward).
  void append(int32_t seq, const int32_t* ids, int64_t n);
  // A new sequence sharing src's first n tokens (blocks shared; the partial one copied on write).
  Status fork(int32_t src, int64_t n, int32_t* dst);
  KvView view(int32_t seq) const;

  // Prefix cache: `seq` (empty) takes the longest cached prefix of ids[0..n) and returns its length.
  int64_t attach_prefix(int32_t seq, const int32_t* ids, int64_t n);
  // Caches the sequence's tokens (its KV blocks become shared, read-only).
  void cache_sequence(int32_t seq);
  // Frees up to n_blocks unreferenced cached blocks (LRU); returns how many it freed.
  int64_t evict(int64_t n_blocks);
  void clear_cache() { cache_.clear(); }
  // Snapshots: the blocks of ids[0..n)'s longest cached prefix, each with a reference taken (give
  // them back with unref()); returns the prefix's length.
  int64_t share_cached(const int32_t* ids, int64_t n, std::vector<int32_t>* blocks);
  void unref(const std::vector<int32_t>& blocks) { for (int32_t b : blocks) blocks_.unref(b); }
  // Puts ids[0..n) into the prefix cache with their KV from `data` (ceil(n / B) whole blocks in
  // this pool's layout).
  Status import_prefix(const int32_t* ids, int64_t n, const uint8_t* data);

  BlockPool& blocks() { return blocks_; }
  const BlockPool& blocks() const { return blocks_; }
  int64_t bytes_per_token() const { return blocks_.bytes_per_token(); }
  int64_t capacity_bytes() const { return blocks_.n_blocks() * blocks_.block_bytes(); }
  int64_t used_bytes() const { return (blocks_.n_blocks() - blocks_.n_free()) * blocks_.block_bytes(); }
  int64_t capacity_tokens() const { return blocks_.n_blocks() * blocks_.block_tokens(); }
  int64_t cached_tokens() const { return cache_.cached_tokens(); }
  int64_t n_sequences() const { return int64_t(seqs_.size()); }

 private:
  struct Seq {
    std::vector<int32_t> table;   // blocks in token order
    std::vector<int32_t> tokens;  // ids whose rows are filled
  };
  bool take_block(int32_t* block);  // from the free list, else by evicting a cached block
  BlockPool blocks_;
  PrefixCache cache_;
  std::unordered_map<int32_t, Seq> seqs_;
  int32_t next_id_ = 0;
};

}  // namespace kk

// prefix_cache.h — a radix tree over token ids whose edges are KV blocks (SGLang's RadixAttention,
// vLLM's automatic prefix caching): each node holds one block and the up to kBlockTokens token ids
// it caches. A full node (kBlockTokens tokens) may have children; a partial one is a leaf. A new
// request takes the longest cached prefix, sharing the blocks read-only; where it diverges inside a
// block the sequence shares that block too and copies it on its first write (copy-on-write, in
// KvPool). Nodes hold one reference to their block; a leaf whose block nobody else holds can be
// evicted, least recently used first.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>
#include "engine/block_pool.h"

namespace kk {

class PrefixCache {
 public:
  explicit PrefixCache(BlockPool* pool) : pool_(pool) {}
  ~PrefixCache() { clear(); }

  // The longest cached prefix of ids[0..n): appends its blocks to *blocks (no reference taken)
  // and returns its length in tokens; the blocks are marked as just used.
  int64_t match(const int32_t* ids, int64_t n, std::vector<int32_t>* blocks);
  // Caches ids[0..n) whose KV lives in `blocks` (block i holds tokens [i·B, (i+1)·B)). Blocks whose
  // tokens are already cached are left to the caller; new nodes take a reference.
  void insert(const int32_t* ids, int64_t n, const std::vector<int32_t>& blocks);
  // Frees the least recently used leaf whose block only the cache holds; false if there is none.
  bool evict_one();
  // Drops every node (blocks still held by sequences stay theirs).
  void clear();
  int64_t n_nodes() const { return n_nodes_; }
  int64_t cached_tokens() const { return cached_tokens_; }

 private:
  struct Node {
    int32_t block = -1;
    std::vector<int32_t> tokens;
    Node* parent = nullptr;
    std::vector<std::unique_ptr<Node>> children;
    uint64_t last_use = 0;
  };
  void drop(Node* n);  // releases n's subtree's blocks
  BlockPool* pool_;
  Node root_;
  uint64_t clock_ = 0;
  int64_t n_nodes_ = 0, cached_tokens_ = 0;
};

}  // namespace kk

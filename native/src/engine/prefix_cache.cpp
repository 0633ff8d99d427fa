// prefix_cache.cpp — radix tree of token blocks; LRU eviction of leaves nobody else holds.
#include "engine/prefix_cache.h"
#include <algorithm>

namespace kk {

int64_t PrefixCache::match(const int32_t* ids, int64_t n, std::vector<int32_t>* blocks) {
  const int64_t B = pool_->block_tokens();
  Node* node = &root_;
  int64_t pos = 0;
  const uint64_t now = ++clock_;
  while (pos < n) {
    const int64_t want = std::min<int64_t>(B, n - pos);
    Node* best = nullptr;
    int64_t best_len = 0;
    for (auto& c : node->children) {
      const int64_t lim = std::min<int64_t>(want, int64_t(c->tokens.size()));
      int64_t k = 0;
      while (k < lim && c->tokens[k] == ids[pos + k]) ++k;
      if (k > best_len) { best_len = k; best = c.get(); }
    }
    if (!best) break;
    best->last_use = now;
    blocks->push_back(best->block);
    pos += best_len;
    if (best_len < B) break;  // diverged inside the block, or a partial leaf: the sequence copies it on write
    node = best;
  }
  for (Node* p = node; p && p != &root_; p = p->parent) p->last_use = now;
  return pos;
}

void PrefixCache::insert(const int32_t* ids, int64_t n, const std::vector<int32_t>& blocks) {
  const int64_t B = pool_->block_tokens();
  Node* node = &root_;
  const uint64_t now = ++clock_;
  for (int64_t pos = 0, b = 0; pos < n && b < int64_t(blocks.size()); pos += B, ++b) {
    const int64_t len = std::min<int64_t>(B, n - pos);
    Node* same = nullptr;
    for (auto& c : node->children)
      if (int64_t(c->tokens.size()) == len && std::equal(c->tokens.begin(), c->tokens.end(), ids + pos)) {
        same = c.get();
        break;
      }
    if (!same) {
      auto c = std::make_unique<Node>();
      c->block = blocks[b];
      c->tokens.assign(ids + pos, ids + pos + len);
      c->parent = node;
      pool_->ref(c->block);
      same = c.get();
      node->children.push_back(std::move(c));
      ++n_nodes_;
      cached_tokens_ += len;
    }
    same->last_use = now;
    if (len < B) break;  // a partial block ends the path
    node = same;
  }
}

bool PrefixCache::evict_one() {
  Node* victim = nullptr;
  std::vector<Node*> stack{&root_};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (auto& c : n->children) stack.push_back(c.get());
    if (n != &root_ && n->children.empty() && pool_->refs(n->block) == 1 &&
        (!victim || n->last_use < victim->last_use))
      victim = n;
  }
  if (!victim) return false;
  Node* parent = victim->parent;
  auto it = std::find_if(parent->children.begin(), parent->children.end(),
                         [&](const std::unique_ptr<Node>& c) { return c.get() == victim; });
  std::unique_ptr<Node> owned = std::move(*it);
  parent->children.erase(it);
  drop(owned.get());
  return true;
}

void PrefixCache::drop(Node* n) {
  for (auto& c : n->children) drop(c.get());
  n->children.clear();
  if (n->block >= 0) {
    pool_->unref(n->block);
    --n_nodes_;
    cached_tokens_ -= int64_t(n->tokens.size());
  }
}

void PrefixCache::clear() {
  for (auto& c : root_.children) drop(c.get());
  root_.children.clear();
}

}  // namespace kk

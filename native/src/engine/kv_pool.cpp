// kv_pool.cpp — block tables, copy-on-write, and the prefix cache's use by sequences.
#include "engine/kv_pool.h"
#include <algorithm>
#include <cstring>

namespace kk {

Status KvPool::init(int64_t budget_bytes, int n_layers, int row, int dtype, int block_tokens) {
  return blocks_.init(budget_bytes, n_layers, row, dtype, block_tokens);
}

Status KvPool::alloc(int32_t* seq) {
  while (seqs_.count(next_id_)) next_id_ = next_id_ == INT32_MAX ? 0 : next_id_ + 1;
  *seq = next_id_;
  seqs_[*seq] = Seq();
  next_id_ = next_id_ == INT32_MAX ? 0 : next_id_ + 1;
  return Status::OK();
}

void KvPool::release(int32_t seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  for (int32_t b : it->second.table) blocks_.unref(b);
  seqs_.erase(it);
}

int64_t KvPool::length(int32_t seq) const {
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? -1 : int64_t(it->second.tokens.size());
}

bool KvPool::take_block(int32_t* block) {
  while (!blocks_.alloc(block))
    if (!cache_.evict_one()) return false;
  return true;
}

Status KvPool::reserve(int32_t seq, int64_t new_len) {
  Seq& s = seqs_.at(seq);
  const int64_t B = blocks_.block_tokens(), len = int64_t(s.tokens.size());
  if (new_len <= len) return Status::OK();
  const int64_t first = len / B, last = (new_len - 1) / B;  // blocks that rows [len, new_len) touch
  // Count what is needed first, so a failure changes nothing.
  int64_t need = 0;
  for (int64_t b = first; b <= last; ++b)
    if (b >= int64_t(s.table.size()) || blocks_.refs(s.table[b]) > 1) ++need;
  std::vector<int32_t> fresh;
  for (int64_t i = 0; i < need; ++i) {
    int32_t b;
    if (!take_block(&b)) {
      for (int32_t f : fresh) blocks_.unref(f);
      return Status::Error("KV pool exhausted: " + std::to_string(new_len) + " tokens need " +
                           std::to_string(need - i) + " more blocks of " + std::to_string(B) +
                           " tokens and all " + std::to_string(blocks_.n_blocks()) +
                           " blocks are held by running sequences (raise the KV budget)");
    }
    fresh.push_back(b);
  }
  size_t next = 0;
  for (int64_t b = first; b <= last; ++b) {
    if (b < int64_t(s.table.size()) && blocks_.refs(s.table[b]) == 1) continue;
    const int32_t nb = fresh[next++];
    if (b < int64_t(s.table.size())) {  // shared: copy the rows it already holds, then let go
      std::memcpy(blocks_.data(nb), blocks_.data(s.table[b]), size_t(blocks_.block_bytes()));
      blocks_.unref(s.table[b]);
      s.table[b] = nb;
    } else {
      s.table.push_back(nb);
    }
  }
  return Status::OK();
}

void KvPool::append(int32_t seq, const int32_t* ids, int64_t n) {
  Seq& s = seqs_.at(seq);
  s.tokens.insert(s.tokens.end(), ids, ids + n);
}

Status KvPool::fork(int32_t src, int64_t n, int32_t* dst) {
  const Seq& a = seqs_.at(src);
  if (n < 0 || n > int64_t(a.tokens.size()))
    return Status::Error("fork: prefix " + std::to_string(n) + " longer than the sequence (" +
                         std::to_string(a.tokens.size()) + " tokens)");
  KK_RETURN_IF_ERROR(alloc(dst));
  const Seq& s = seqs_.at(src);  // alloc may rehash; values stay put, but look up again for clarity
  Seq& d = seqs_.at(*dst);
  const int64_t B = blocks_.block_tokens(), nb = (n + B - 1) / B;
  d.table.assign(s.table.begin(), s.table.begin() + nb);
  for (int32_t b : d.table) blocks_.ref(b);
  d.tokens.assign(s.tokens.begin(), s.tokens.begin() + n);
  return Status::OK();
}

KvView KvPool::view(int32_t seq) const {
  KvView v;
  v.pool = blocks_.data(0);
  v.table = seqs_.at(seq).table;
  v.block_bytes = blocks_.block_bytes();
  v.block_tokens = blocks_.block_tokens();
  v.row = blocks_.row();
  v.row_bytes = blocks_.row_bytes();
  v.dtype = blocks_.dtype();
  return v;
}

int64_t KvPool::attach_prefix(int32_t seq, const int32_t* ids, int64_t n) {
  Seq& s = seqs_.at(seq);
  if (!s.tokens.empty() || n <= 0) return 0;
  std::vector<int32_t> shared;
  const int64_t hit = cache_.match(ids, n, &shared);
  for (int32_t b : shared) blocks_.ref(b);
  s.table = std::move(shared);
  s.tokens.assign(ids, ids + hit);
  return hit;
}

void KvPool::cache_sequence(int32_t seq) {
  const Seq& s = seqs_.at(seq);
  cache_.insert(s.tokens.data(), int64_t(s.tokens.size()), s.table);
}

int64_t KvPool::share_cached(const int32_t* ids, int64_t n, std::vector<int32_t>* blocks) {
  blocks->clear();
  const int64_t hit = cache_.match(ids, n, blocks);
  for (int32_t b : *blocks) blocks_.ref(b);
  return hit;
}

Status KvPool::import_prefix(const int32_t* ids, int64_t n, const uint8_t* data) {
  int32_t seq;
  KK_RETURN_IF_ERROR(alloc(&seq));
  const int64_t B = blocks_.block_tokens();
  const size_t block_data = size_t(blocks_.n_layers()) * size_t(B) * size_t(blocks_.row_bytes());
  Status st = reserve(seq, n);
  if (st.ok()) {
    Seq& s = seqs_.at(seq);
    for (size_t b = 0; b < s.table.size(); ++b)
      std::memcpy(blocks_.data(s.table[b]), data + b * block_data, block_data);
    append(seq, ids, n);
    cache_sequence(seq);
  }
  release(seq);
  return st;
}

int64_t KvPool::evict(int64_t n_blocks) {
  int64_t freed = 0;
  while (freed < n_blocks) {
    const int64_t before = blocks_.n_free();
    if (!cache_.evict_one()) break;
    freed += blocks_.n_free() - before;
  }
  return freed;
}

}  // namespace kk

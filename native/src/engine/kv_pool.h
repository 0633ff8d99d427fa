// kv_pool.h — a fixed-capacity pool of latent KV caches, one slot per sequence.
// Each slot holds n_layers × max_context rows of [c_kv | k_pe] (fp32). The pool reserves its whole
// capacity as virtual memory up front and the OS commits pages as tokens are written, so capacity
// costs nothing until used; freeing a sequence gives its pages back.
#pragma once
#include <cstdint>
#include <vector>
#include "core/status.h"
#include "model/model.h"

namespace kk {

class KvPool {
 public:
  KvPool() = default;
  ~KvPool();
  KvPool(const KvPool&) = delete;
  KvPool& operator=(const KvPool&) = delete;

  Status init(int max_sequences, int64_t max_context, int n_layers, int row);
  Status alloc(int32_t* seq);
  void release(int32_t seq);
  bool valid(int32_t seq) const { return seq >= 0 && seq < int32_t(used_.size()) && used_[seq]; }
  KvView view(int32_t seq) const;
  int64_t length(int32_t seq) const { return valid(seq) ? length_[seq] : -1; }
  void set_length(int32_t seq, int64_t n) { length_[seq] = n; }
  // Copies the first n cached tokens of src (every layer) into dst and sets dst's length to n.
  void copy_prefix(int32_t src, int32_t dst, int64_t n);

  int64_t max_context() const { return max_context_; }
  int64_t bytes_per_token() const { return int64_t(n_layers_) * row_ * int64_t(sizeof(float)); }
  int64_t capacity_bytes() const { return bytes_per_token() * max_context_ * int64_t(used_.size()); }
  int64_t used_bytes() const;

 private:
  float* slot(int32_t seq) const { return base_ + size_t(seq) * slot_floats(); }
  size_t slot_floats() const { return size_t(n_layers_) * size_t(max_context_) * size_t(row_); }
  float* base_ = nullptr;
  size_t mapped_bytes_ = 0;
  int64_t max_context_ = 0;
  int n_layers_ = 0, row_ = 0;
  std::vector<bool> used_;
  std::vector<int64_t> length_;
};

}  // namespace kk

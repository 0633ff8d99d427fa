// kv_pool.cpp — slots in one anonymous mapping; pages committed on first write.
#include "engine/kv_pool.h"
#include <sys/mman.h>
#include <unistd.h>
#include <cstdint>
#include <cstring>

namespace kk {

KvPool::~KvPool() {
  if (base_) munmap(base_, mapped_bytes_);
}

Status KvPool::init(int max_sequences, int64_t max_context, int n_layers, int row) {
  if (max_sequences <= 0 || max_context <= 0)
    return Status::Error("KV pool: max_sequences and max_context must be positive");
  max_context_ = max_context;
  n_layers_ = n_layers;
  row_ = row;
  used_.assign(max_sequences, false);
  length_.assign(max_sequences, 0);
  mapped_bytes_ = slot_floats() * sizeof(float) * size_t(max_sequences);
  void* p = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    base_ = nullptr;
    return Status::Error("KV pool: cannot reserve " + std::to_string(mapped_bytes_ >> 20) + " MiB");
  }
  base_ = static_cast<float*>(p);
  return Status::OK();
}

Status KvPool::alloc(int32_t* seq) {
  for (size_t i = 0; i < used_.size(); ++i) {
    if (!used_[i]) {
      used_[i] = true;
      length_[i] = 0;
      *seq = int32_t(i);
      return Status::OK();
    }
  }
  return Status::Error("KV pool full: all " + std::to_string(used_.size()) + " sequences in use");
}

void KvPool::release(int32_t seq) {
  if (!valid(seq)) return;
  used_[seq] = false;
  // Hand the touched pages back to the OS (they read as zeros if used again).
  // madvise wants page-aligned bounds: release the whole pages inside the slot.
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(slot(seq)) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(slot(seq) + slot_floats())) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  length_[seq] = 0;
}

KvView KvPool::view(int32_t seq) const {
  KvView v;
  v.base = slot(seq);
  v.layer_stride = max_context_ * row_;
  return v;
}

void KvPool::copy_prefix(int32_t src, int32_t dst, int64_t n) {
  const KvView a = view(src), b = view(dst);
  for (int l = 0; l < n_layers_; ++l) std::memcpy(b.layer(l), a.layer(l), size_t(n) * row_ * sizeof(float));
  length_[dst] = n;
}

int64_t KvPool::used_bytes() const {
  int64_t tokens = 0;
  for (size_t i = 0; i < used_.size(); ++i) if (used_[i]) tokens += length_[i];
  return tokens * bytes_per_token();
}

}  // namespace kk

// block_pool.cpp — blocks in one anonymous mapping; pages committed on first write.
#include "engine/block_pool.h"
#include <sys/mman.h>
#include <unistd.h>

namespace kk {

BlockPool::~BlockPool() {
  if (base_) munmap(base_, mapped_bytes_);
}

Status BlockPool::init(int64_t budget_bytes, int n_layers, int row, int dtype, int block_tokens) {
  if (n_layers <= 0 || row <= 0 || block_tokens <= 0) return Status::Error("KV pool: bad dimensions");
  if (dtype != KK_KV_F32 && dtype != KK_KV_BF16 && dtype != KK_KV_FP8) return Status::Error("KV pool: unknown cache dtype");
  n_layers_ = n_layers;
  row_ = row;
  dtype_ = dtype;
  row_bytes_ = KK_KV_ROW_BYTES(dtype, row);
  block_tokens_ = block_tokens;
  // Blocks start on page boundaries so a freed block's pages can be handed back on their own.
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  const size_t need = size_t(n_layers) * size_t(block_tokens) * size_t(row_bytes_);
  block_bytes_ = (need + page - 1) / page * page;
  const int64_t n = budget_bytes / int64_t(block_bytes_);
  if (n <= 0)
    return Status::Error("KV pool: a budget of " + std::to_string(budget_bytes) + " bytes holds no block of " +
                         std::to_string(block_bytes_) + " bytes (" + std::to_string(block_tokens) + " tokens)");
  mapped_bytes_ = size_t(n) * block_bytes_;
  void* p = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    base_ = nullptr;
    return Status::Error("KV pool: cannot reserve " + std::to_string(mapped_bytes_ >> 20) + " MiB");
  }
  base_ = static_cast<uint8_t*>(p);
  refs_.assign(size_t(n), 0);
  free_.clear();
  for (int64_t b = n - 1; b >= 0; --b) free_.push_back(int32_t(b));
  return Status::OK();
}

bool BlockPool::alloc(int32_t* block) {
  if (free_.empty()) return false;
  *block = free_.back();
  free_.pop_back();
  refs_[*block] = 1;
  return true;
}

void BlockPool::unref(int32_t block) {
  if (--refs_[block] > 0) return;
  madvise(data(block), block_bytes_, MADV_DONTNEED);  // reads as zeros if reused
  free_.push_back(block);
}

}  // namespace kk

// q4x16.cpp — block_q4 rows <-> block_q4x16 groups (see kk_blocks.h for the byte layout).
#include "core/q4x16.h"

#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "core/thread_pool.h"

namespace kk {

namespace {
constexpr int kRows = KK_Q4X16_ROWS;
constexpr int kHalf = KK_Q4_GROUP / 2;  // block_q4 keeps columns j and j + 16 in byte j

inline int q4_nibble(const block_q4& b, int c) { return c < kHalf ? (b.qs[c] & 0x0F) : (b.qs[c - kHalf] >> 4); }

int64_t rows_per_matrix(const Tensor& t) { return t.shape.size() == 3 ? t.shape[1] : t.rows(); }

// Groups of 16 rows are independent, so the repack runs in place one group at a time through a
// group-sized buffer (allocated by the caller: nothing may fail once groups are rewritten).
void repack_groups(const uint8_t* src, uint8_t* dst, int64_t g0, int64_t g1, int64_t nb,
                   block_q4x16* tmp) {
  const size_t group_bytes = size_t(nb) * sizeof(block_q4x16);
  for (int64_t g = g0; g < g1; ++g) {
    q4x16_pack(reinterpret_cast<const block_q4*>(src + g * group_bytes), nb, tmp);
    std::memcpy(dst + g * group_bytes, tmp, group_bytes);
  }
}
}  // namespace

void q4x16_pack(const block_q4* rows, int64_t nb, block_q4x16* out) {
  for (int64_t b = 0; b < nb; ++b) {
    block_q4x16& o = out[b];
    std::memset(o.qs, 0, sizeof(o.qs));
    for (int r = 0; r < kRows; ++r) {
      const block_q4& in = rows[r * nb + b];
      o.scale_bf16[r] = in.scale_bf16;
      for (int c = 0; c < KK_Q4_GROUP; ++c)
        o.qs[KK_Q4X16_QS_BYTE(r, c)] |= uint8_t(q4_nibble(in, c) << KK_Q4X16_QS_SHIFT(c));
    }
  }
}

void q4x16_unpack_row(const block_q4x16* group, int64_t nb, int r, block_q4* out) {
  for (int64_t b = 0; b < nb; ++b) {
    const block_q4x16& in = group[b];
    block_q4& o = out[b];
    o.scale_bf16 = in.scale_bf16[r];
    for (int j = 0; j < kHalf; ++j) {
      const int lo = (in.qs[KK_Q4X16_QS_BYTE(r, j)] >> KK_Q4X16_QS_SHIFT(j)) & 0x0F;
      const int hi = (in.qs[KK_Q4X16_QS_BYTE(r, j + kHalf)] >> KK_Q4X16_QS_SHIFT(j + kHalf)) & 0x0F;
      o.qs[j] = uint8_t(lo | (hi << 4));
    }
  }
}

bool q4x16_eligible(const Tensor& t) {
  return t.type == DType::Q4 && !t.empty() && t.shape.size() >= 2 && t.shape.size() <= 3 &&
         t.cols() > 0 && t.cols() % KK_Q4_GROUP == 0 && rows_per_matrix(t) > 0 &&
         rows_per_matrix(t) % kRows == 0;
}

Status q4x16_repack(Tensor* t, ThreadPool* pool) {
  if (!q4x16_eligible(*t))
    return Status::Error("q4x16_repack: " + t->name + " is not a Q4 tensor with rows % 16 == 0 and cols % 32 == 0");
  const int64_t nb = t->cols() / KK_Q4_GROUP;
  const int64_t groups = t->rows() / kRows;
  const uint8_t* src = static_cast<const uint8_t*>(t->data);
  uint8_t* dst = static_cast<uint8_t*>(t->data);
  std::shared_ptr<void> fresh;
  if (!t->owner) {  // a mapped view: never write to the file's pages
    void* p = ::operator new(t->nbytes(), std::nothrow);
    if (!p) return Status::Error("q4x16_repack: out of memory for " + t->name);
    fresh.reset(p, [](void* q) { ::operator delete(q); });
    dst = static_cast<uint8_t*>(p);
  }
  std::vector<std::vector<block_q4x16>> tmp;
  try {
    tmp.assign(size_t(pool ? pool->size() : 1), std::vector<block_q4x16>(size_t(nb)));
  } catch (const std::bad_alloc&) {
    return Status::Error("q4x16_repack: out of memory for " + t->name);
  }
  auto body = [&](int64_t g0, int64_t g1, int idx) { repack_groups(src, dst, g0, g1, nb, tmp[size_t(idx)].data()); };
  if (pool) pool->parallel_for(groups, 1, body);
  else body(0, groups, 0);
  if (fresh) { t->owner = fresh; t->data = fresh.get(); }
  t->type = DType::Q4X16;
  return Status::OK();
}

}  // namespace kk

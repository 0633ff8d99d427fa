// kv_pages.h — how an attention op sees one layer of one sequence's paged latent cache.
// The engine keeps the latent KV ([c_kv (R) | k_pe (P)] per token) in fixed-size blocks drawn from
// one pool, in the precision and byte layout of kernels/common/kk_kv.h; a sequence is a table of
// blocks. For one layer that is a list of block pointers: row t lives at
// blocks[t / block_tokens] + (t % block_tokens) * row_bytes. Readers take rows as fp32 through
// read() (dequantized per row), or, for an fp32 cache, in place through f32_row().
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "kk_kv.h"

namespace kk {

// "fp32" | "bf16" | "fp8" <-> KK_KV_*; false for another name.
bool kv_dtype_from_name(const std::string& name, int* dtype);
const char* kv_dtype_name(int dtype);
// Bytes one cached token takes in `dtype`: n_layers rows of `row` values (R + P).
inline int64_t kv_bytes_per_token(int n_layers, int row, int dtype) {
  return int64_t(n_layers) * KK_KV_ROW_BYTES(dtype, row);
}

struct KvPages {
  const uint8_t* const* blocks = nullptr;  // one pointer per block (this layer's rows)
  int64_t block_tokens = 0;                // rows per block
  int64_t row = 0;                         // values per row (R + P)
  int dtype = KK_KV_F32;
  int64_t row_bytes = 0;                   // KK_KV_ROW_BYTES(dtype, row)

  const uint8_t* row_ptr(int64_t t) const { return blocks[t / block_tokens] + (t % block_tokens) * row_bytes; }
  // Row t in place (fp32 caches only).
  const float* f32_row(int64_t t) const { return reinterpret_cast<const float*>(row_ptr(t)); }
  // Values [off, off + n) of row t as fp32.
  void read(int64_t t, int64_t off, int64_t n, float* out) const;
  // Rows [t0, t1) as fp32, row after row (t1 - t0) x row floats.
  void read_rows(int64_t t0, int64_t t1, float* out) const {
    for (int64_t t = t0; t < t1; ++t) read(t, 0, row, out + (t - t0) * row);
  }

  // A contiguous fp32 cache of n_ctx rows seen as a single block (tests, and backends that gather).
  static KvPages contiguous(const float* cache, int64_t n_ctx, int64_t row, std::vector<const uint8_t*>* storage) {
    storage->assign(1, reinterpret_cast<const uint8_t*>(cache));
    return KvPages{storage->data(), n_ctx > 0 ? n_ctx : 1, row, KK_KV_F32, int64_t(sizeof(float)) * row};
  }
};

}  // namespace kk

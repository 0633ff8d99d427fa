// mla_decode.cu — absorbed-MLA decode attention of one query token over the latent cache,
// split over the sequence (flash-decoding):
//   partial: grid (heads, splits); each block scores its chunk of the cache for one head
//            (q_lat·c_kv + q_pe·k_pe, scaled), keeps m = max, l = Σ exp, o = Σ exp · c_kv;
//   combine: grid (heads); log-sum-exp merge of the splits.
// Cache rows are [c_kv (R) | k_pe (P)] per token in the precision of kk_kv.h, read through the
// sequence's block table (kk_mla_decode_args); n_ctx <= 0 yields zeros.
#include <math.h>

#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kThreads = 256;
// Tokens per split the heuristic aims for: long enough to amortize the q load and the merge,
// short enough that a 128K context still gives hundreds of blocks.
constexpr int kTargetChunk = 256;
constexpr int kMaxSplits = 1024;
// Scores of one chunk live in shared memory beside q: dynamic shared memory stays at 44 KiB, so
// with the kernel's static reduction buffer it is under the default 48 KiB per block.
constexpr int kMaxSharedFloats = 11 * 1024;

__host__ __device__ inline int chunk_len(int n_ctx, int n_splits) { return (n_ctx + n_splits - 1) / n_splits; }

// Row t of the layer: through the block table into the pool.
__device__ __forceinline__ const kk_u8* cache_row(const kk_mla_decode_args& a, const kk_u8* base, const int32_t* table, int t) {
  return base + size_t(table[t / a.block_tokens]) * size_t(a.block_stride) + size_t(t % a.block_tokens) * size_t(a.row_bytes);
}

__global__ void mla_partial_kernel(kk_mla_decode_args a, int n_splits, const float* __restrict__ q_lat,
                                   const float* __restrict__ q_pe, const kk_u8* __restrict__ cache,
                                   const int32_t* __restrict__ table,
                                   float* __restrict__ po, float* __restrict__ pm, float* __restrict__ pl) {
  KK_DYNAMIC_SHARED(float, sh);  // [R + P] query, then [chunk] scores
  __shared__ float red[kWarp];
  const int h = blockIdx.x, sp = blockIdx.y, R = a.kv_lora_rank, P = a.rope_dim, D = R + P;
  float* q = sh;
  float* sc = sh + D;
  const int chunk = chunk_len(a.n_ctx, n_splits);
  const int t0 = sp * chunk, t1 = min(a.n_ctx, t0 + chunk);
  const size_t part = size_t(h) * n_splits + sp;
  if (t0 >= t1) {  // an empty tail split contributes nothing
    for (int d = threadIdx.x; d < R; d += blockDim.x) po[part * R + d] = 0.f;
    if (threadIdx.x == 0) { pm[part] = -INFINITY; pl[part] = 0.f; }
    return;
  }
  for (int i = threadIdx.x; i < D; i += blockDim.x) q[i] = i < R ? q_lat[size_t(h) * R + i] : q_pe[size_t(h) * P + i - R];
  __syncthreads();
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp, n_warps = blockDim.x / kWarp;
  for (int t = t0 + warp; t < t1; t += n_warps) {
    const kk_u8* row = cache_row(a, cache, table, t);
    float s = 0.f;
    for (int i = lane; i < D; i += kWarp) s += q[i] * kk_kv_load(row, a.kv_dtype, i);
    s = warp_sum(s);
    if (lane == 0) sc[t - t0] = s * a.scale;
  }
  __syncthreads();
  float m = -INFINITY;
  for (int i = threadIdx.x; i < t1 - t0; i += blockDim.x) m = fmaxf(m, sc[i]);
  m = block_max(m, red);
  float l = 0.f;
  for (int i = threadIdx.x; i < t1 - t0; i += blockDim.x) {
    const float p = expf(sc[i] - m);
    sc[i] = p;
    l += p;
  }
  l = block_sum(l, red);  // its leading __syncthreads also publishes sc
  for (int d = threadIdx.x; d < R; d += blockDim.x) {
    float o = 0.f;
    for (int t = t0; t < t1; ++t) o += sc[t - t0] * kk_kv_load(cache_row(a, cache, table, t), a.kv_dtype, d);
    po[part * R + d] = o;
  }
  if (threadIdx.x == 0) { pm[part] = m; pl[part] = l; }
}

__global__ void mla_combine_kernel(kk_mla_decode_args a, int n_splits, const float* __restrict__ po,
                                   const float* __restrict__ pm, const float* __restrict__ pl, float* __restrict__ out) {
  const int h = blockIdx.x, R = a.kv_lora_rank;
  const float* m = pm + size_t(h) * n_splits;
  const float* l = pl + size_t(h) * n_splits;
  float M = -INFINITY;
  for (int s = 0; s < n_splits; ++s) M = fmaxf(M, m[s]);
  float denom = 0.f;
  for (int s = 0; s < n_splits; ++s) denom += l[s] > 0.f ? expf(m[s] - M) * l[s] : 0.f;
  for (int d = threadIdx.x; d < R; d += blockDim.x) {
    float o = 0.f;
    for (int s = 0; s < n_splits; ++s)
      if (l[s] > 0.f) o += expf(m[s] - M) * po[(size_t(h) * n_splits + s) * R + d];
    out[size_t(h) * R + d] = denom > 0.f ? o / denom : 0.f;
  }
}

}  // namespace

int mla_decode_splits(const kk_mla_decode_args& a) {
  int s = (a.n_ctx + kTargetChunk - 1) / kTargetChunk;
  if (s < 1) s = 1;
  if (s > kMaxSplits) s = kMaxSplits;
  // Enough splits that one chunk's scores fit in shared memory beside q.
  const int max_chunk = kMaxSharedFloats - (a.kv_lora_rank + a.rope_dim);
  while (max_chunk > 0 && chunk_len(a.n_ctx, s) > max_chunk) ++s;
  return s;
}

size_t mla_decode_workspace_bytes(const kk_mla_decode_args& a, int n_splits) {
  return sizeof(float) * size_t(a.n_heads) * n_splits * (size_t(a.kv_lora_rank) + 2);
}

cudaError_t launch_mla_decode(const kk_mla_decode_args& a, int n_splits, const float* q_lat, const float* q_pe,
                              const void* cache, const int32_t* block_table, float* out_lat, void* workspace,
                              cudaStream_t s) {
  if (a.n_heads <= 0 || a.kv_lora_rank <= 0 || a.rope_dim < 0 || n_splits <= 0 || n_splits > 65535 || !workspace)
    return cudaErrorInvalidValue;
  if (a.n_ctx > 0 && (a.block_tokens <= 0 || a.block_stride <= 0 || !cache || !block_table ||
                      (a.kv_dtype != KK_KV_F32 && a.kv_dtype != KK_KV_BF16 && a.kv_dtype != KK_KV_FP8) ||
                      a.row_bytes != KK_KV_ROW_BYTES(a.kv_dtype, a.kv_lora_rank + a.rope_dim) ||
                      int64_t(a.block_tokens) * a.row_bytes > a.block_stride))
    return cudaErrorInvalidValue;
  if (a.n_ctx <= 0) return cudaMemsetAsync(out_lat, 0, sizeof(float) * size_t(a.n_heads) * a.kv_lora_rank, s);
  const int D = a.kv_lora_rank + a.rope_dim;
  const size_t shared = sizeof(float) * (size_t(D) + chunk_len(a.n_ctx, n_splits));
  if (shared > sizeof(float) * kMaxSharedFloats) return cudaErrorInvalidValue;  // use more splits
  float* po = static_cast<float*>(workspace);
  float* pm = po + size_t(a.n_heads) * n_splits * a.kv_lora_rank;
  float* pl = pm + size_t(a.n_heads) * n_splits;
  KK_LAUNCH(dim3(a.n_heads, n_splits), kThreads, shared, s, mla_partial_kernel)(a, n_splits, q_lat, q_pe, static_cast<const kk_u8*>(cache),
                                                                            block_table, po, pm, pl);
  KK_LAUNCH(a.n_heads, kThreads, 0, s, mla_combine_kernel)(a, n_splits, po, pm, pl, out_lat);
  return cudaGetLastError();
}

}  // namespace kk::cuda

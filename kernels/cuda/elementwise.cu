// elementwise.cu — the small glue ops of the forward: silu(g)·u, residual add, bf16 embedding rows.
#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535;

int blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return int(b < kMaxBlocks ? b : kMaxBlocks);
}

__global__ void silu_mul_kernel(int64_t n, const float* __restrict__ g, const float* __restrict__ u, float* __restrict__ o) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    o[i] = silu(g[i]) * u[i];
}

__global__ void add_kernel(int64_t n, const float* __restrict__ x, float* __restrict__ y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] += x[i];
}

__global__ void embed_kernel(int hidden, const int32_t* __restrict__ ids, const uint16_t* __restrict__ table,
                             float* __restrict__ out) {
  const uint16_t* row = table + size_t(ids[blockIdx.x]) * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) out[size_t(blockIdx.x) * hidden + i] = bf16_to_f32(row[i]);
}

}  // namespace

cudaError_t launch_silu_mul(int64_t n, const float* gate, const float* up, float* out, cudaStream_t s) {
  if (n < 0) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  KK_LAUNCH(blocks_for(n), kThreads, 0, s, silu_mul_kernel)(n, gate, up, out);
  return cudaGetLastError();
}

cudaError_t launch_add_inplace(int64_t n, const float* x, float* y, cudaStream_t s) {
  if (n < 0) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  KK_LAUNCH(blocks_for(n), kThreads, 0, s, add_kernel)(n, x, y);
  return cudaGetLastError();
}

// Ids must be valid rows of the table (the caller checked them against the vocabulary).
cudaError_t launch_embed_bf16(int n_tokens, int hidden, const int32_t* ids, const uint16_t* table, float* out,
                              cudaStream_t s) {
  if (n_tokens < 0 || hidden <= 0) return cudaErrorInvalidValue;
  if (n_tokens == 0) return cudaSuccess;
  KK_LAUNCH(n_tokens, kThreads, 0, s, embed_kernel)(hidden, ids, table, out);
  return cudaGetLastError();
}

}  // namespace kk::cuda

// matmul_q4.cu — y = x · Wᵀ with W in block_q4 rows (INT4 GEMV at n = 1, small-batch GEMM above).
//
// A warp owns one output row and streams it once per tile of kTokenTile tokens; decode (n = 1) is
// a pure weight stream, which is what bounds it. Prefill re-reads each row once per token tile
// (from L2 for the tiles of one block). A tensor-core path for large n is future work.
#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kTokenTile = 4;
// Token tiles per grid column: bounds the grid while keeping enough blocks for large n.
constexpr int kMaxTileBlocks = 1024;

__global__ void matmul_q4_kernel(const block_q4* __restrict__ W, int rows, int cols,
                                 const float* __restrict__ x, int n, float* __restrict__ y) {
  const int r = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
  if (r >= rows) return;
  const int nb = cols / KK_Q4_GROUP;
  const block_q4* row = W + size_t(r) * nb;
  for (int t0 = blockIdx.y * kTokenTile; t0 < n; t0 += gridDim.y * kTokenTile) {
    const float* xs[kTokenTile];
#pragma unroll
    for (int tt = 0; tt < kTokenTile; ++tt) xs[tt] = t0 + tt < n ? x + size_t(t0 + tt) * cols : nullptr;
    float acc[kTokenTile];
    q4_row_dot<kTokenTile>(row, nb, xs, acc);
    if (threadIdx.x % kWarp == 0)
#pragma unroll
      for (int tt = 0; tt < kTokenTile; ++tt)
        if (t0 + tt < n) y[size_t(t0 + tt) * rows + r] = acc[tt];
  }
}

}  // namespace

cudaError_t launch_matmul_q4(const kk_matmul_args& a, const block_q4* W, const float* x, float* y, cudaStream_t s) {
  if (a.rows <= 0 || a.cols <= 0 || a.cols % KK_Q4_GROUP != 0 || a.n_tokens < 0) return cudaErrorInvalidValue;
  if (a.n_tokens == 0) return cudaSuccess;
  if (reinterpret_cast<uintptr_t>(x) % 16 != 0) return cudaErrorMisalignedAddress;  // float4 loads
  const int tiles = (a.n_tokens + kTokenTile - 1) / kTokenTile;
  dim3 grid((a.rows + kRowsPerBlock - 1) / kRowsPerBlock, tiles < kMaxTileBlocks ? tiles : kMaxTileBlocks);
  KK_LAUNCH(grid, kRowsPerBlock * kWarp, 0, s, matmul_q4_kernel)(W, a.rows, a.cols, x, a.n_tokens, y);
  return cudaGetLastError();
}

}  // namespace kk::cuda

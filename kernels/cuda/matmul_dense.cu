// matmul_dense.cu — y = x · Wᵀ for bf16 and f32 weights with fp32 activations and accumulation.
//
// Same warp-per-row scheme as matmul_q4.cu. Rows whose width allows it are read 16 bytes per lane
// (8 bf16 or 4 f32); any other width (odd sizes) takes the element-wise path. Activations stay
// fp32, so this is exact-mode arithmetic (cuBLAS would need bf16 activations).
#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kTokenTile = 4;
constexpr int kMaxTileBlocks = 1024;

template <typename T> __device__ __forceinline__ float to_f32(T v);
template <> __device__ __forceinline__ float to_f32<uint16_t>(uint16_t v) { return bf16_to_f32(v); }
template <> __device__ __forceinline__ float to_f32<float>(float v) { return v; }

// Elements per 16-byte vector load.
template <typename T> constexpr int kVec = 16 / sizeof(T);

template <typename T, bool kVectorized>
__global__ void matmul_dense_kernel(const T* __restrict__ W, int rows, int cols, const float* __restrict__ x,
                                    int n, float* __restrict__ y) {
  const int r = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  if (r >= rows) return;
  const T* row = W + size_t(r) * cols;
  for (int t0 = blockIdx.y * kTokenTile; t0 < n; t0 += gridDim.y * kTokenTile) {
    float acc[kTokenTile] = {};
    const int nt = n - t0 < kTokenTile ? n - t0 : kTokenTile;
    if (kVectorized) {
      constexpr int V = kVec<T>;
      for (int c = lane * V; c < cols; c += kWarp * V) {
        union { uint4 raw; T w[V]; } u;  // a union, not a pointer cast: no aliasing games
        u.raw = __ldg(reinterpret_cast<const uint4*>(row + c));
        const T* w = u.w;
        for (int tt = 0; tt < nt; ++tt) {
          const float* xr = x + size_t(t0 + tt) * cols + c;
#pragma unroll
          for (int v = 0; v < V; ++v) acc[tt] += to_f32<T>(w[v]) * __ldg(xr + v);
        }
      }
    } else {
      for (int c = lane; c < cols; c += kWarp) {
        const float w = to_f32<T>(row[c]);
        for (int tt = 0; tt < nt; ++tt) acc[tt] += w * __ldg(x + size_t(t0 + tt) * cols + c);
      }
    }
#pragma unroll
    for (int tt = 0; tt < kTokenTile; ++tt) acc[tt] = warp_sum(acc[tt]);
    if (lane == 0)
      for (int tt = 0; tt < nt; ++tt) y[size_t(t0 + tt) * rows + r] = acc[tt];
  }
}

template <typename T>
cudaError_t launch_dense(const kk_matmul_args& a, const T* W, const float* x, float* y, cudaStream_t s) {
  if (a.rows <= 0 || a.cols <= 0 || a.n_tokens < 0) return cudaErrorInvalidValue;
  if (a.n_tokens == 0) return cudaSuccess;
  const int tiles = (a.n_tokens + kTokenTile - 1) / kTokenTile;
  dim3 grid((a.rows + kRowsPerBlock - 1) / kRowsPerBlock, tiles < kMaxTileBlocks ? tiles : kMaxTileBlocks);
  // 16-byte loads need every row (and the base) 16-byte aligned.
  const bool vec = a.cols % kVec<T> == 0 && (reinterpret_cast<uintptr_t>(W) % 16) == 0;
  if (vec) KK_LAUNCH(grid, kRowsPerBlock * kWarp, 0, s, matmul_dense_kernel<T, true>)(W, a.rows, a.cols, x, a.n_tokens, y);
  else KK_LAUNCH(grid, kRowsPerBlock * kWarp, 0, s, matmul_dense_kernel<T, false>)(W, a.rows, a.cols, x, a.n_tokens, y);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_matmul_bf16(const kk_matmul_args& a, const uint16_t* W, const float* x, float* y, cudaStream_t s) {
  return launch_dense<uint16_t>(a, W, x, y, s);
}
cudaError_t launch_matmul_f32(const kk_matmul_args& a, const float* W, const float* x, float* y, cudaStream_t s) {
  return launch_dense<float>(a, W, x, y, s);
}

}  // namespace kk::cuda

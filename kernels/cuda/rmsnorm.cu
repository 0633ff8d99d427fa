// rmsnorm.cu — y = x / sqrt(mean(x²) + eps) · w, one block per row.
#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void rmsnorm_kernel(kk_rmsnorm_args a, const float* __restrict__ x, const float* __restrict__ w,
                               float* __restrict__ y) {
  __shared__ float red[kWarp];
  const float* xr = x + size_t(blockIdx.x) * a.dim;
  float* yr = y + size_t(blockIdx.x) * a.dim;
  float ss = 0.f;
  for (int i = threadIdx.x; i < a.dim; i += blockDim.x) ss += xr[i] * xr[i];
  ss = block_sum(ss, red);
  const float inv = rsqrtf(ss / float(a.dim) + a.eps);
  for (int i = threadIdx.x; i < a.dim; i += blockDim.x) yr[i] = (xr[i] * inv) * w[i];
}

}  // namespace

cudaError_t launch_rmsnorm(const kk_rmsnorm_args& a, const float* x, const float* w, float* y, cudaStream_t s) {
  if (a.n_rows < 0 || a.dim <= 0 || !(a.eps >= 0.f)) return cudaErrorInvalidValue;
  if (a.n_rows == 0) return cudaSuccess;
  KK_LAUNCH(a.n_rows, kThreads, 0, s, rmsnorm_kernel)(a, x, w, y);
  return cudaGetLastError();
}

}  // namespace kk::cuda

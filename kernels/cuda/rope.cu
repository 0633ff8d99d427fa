// rope.cu — rotary embedding with YaRN frequencies, interleaved in, rotate-half layout out
// (kk_rope_args; the same math as model/rope.h). One warp per (token, head): each lane reads its
// pairs into registers before any lane writes, so the in-place de-interleave is race-free.
#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kPairsPerLane = KK_ROPE_MAX_DIM / 2 / kWarp;
constexpr int kWarpsPerBlock = 4;

__global__ void rope_kernel(kk_rope_args a, float* __restrict__ x, const int32_t* __restrict__ pos,
                            const float* __restrict__ inv_freq) {
  const int item = blockIdx.x * kWarpsPerBlock + threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  if (item >= a.n_tokens * a.n_heads) return;
  const int t = item / a.n_heads, h = item % a.n_heads, half = a.dim / 2;
  float* v = x + size_t(t) * a.row_stride + size_t(h) * a.head_stride + a.offset;
  const float p = float(pos[t]);
  float ra[kPairsPerLane], rb[kPairsPerLane];
#pragma unroll
  for (int j = 0; j < kPairsPerLane; ++j) {
    const int i = lane + j * kWarp;
    if (i < half) { ra[j] = v[2 * i]; rb[j] = v[2 * i + 1]; }
  }
  __syncwarp();
#pragma unroll
  for (int j = 0; j < kPairsPerLane; ++j) {
    const int i = lane + j * kWarp;
    if (i >= half) continue;
    const float angle = p * inv_freq[i];  // float32 product, as HF's rotary forward
    float sn, cs;
    sincosf(angle, &sn, &cs);
    cs *= a.attention_factor;
    sn *= a.attention_factor;
    v[i] = ra[j] * cs - rb[j] * sn;
    v[i + half] = rb[j] * cs + ra[j] * sn;
  }
}

}  // namespace

cudaError_t launch_rope(const kk_rope_args& a, float* x, const int32_t* pos, const float* inv_freq, cudaStream_t s) {
  if (a.n_tokens < 0 || a.n_heads <= 0 || a.dim <= 0 || a.dim % 2 != 0 || a.dim > KK_ROPE_MAX_DIM ||
      a.offset < 0 || a.offset + a.dim > a.head_stride || (a.n_heads > 1 && a.head_stride * a.n_heads > a.row_stride) ||
      a.row_stride < a.offset + a.dim)
    return cudaErrorInvalidValue;
  const int items = a.n_tokens * a.n_heads;
  if (items == 0) return cudaSuccess;
  KK_LAUNCH((items + kWarpsPerBlock - 1) / kWarpsPerBlock, kWarpsPerBlock * kWarp, 0, s, rope_kernel)(a, x, pos, inv_freq);
  return cudaGetLastError();
}

}  // namespace kk::cuda

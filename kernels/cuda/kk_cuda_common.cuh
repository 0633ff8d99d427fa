// kk_cuda_common.cuh — device helpers shared by the CUDA kernels: reductions, bf16, INT4 blocks.
#pragma once
#include <cuda_runtime.h>
#include <stdint.h>
#include "kk_args.h"
#include "kk_blocks.h"

// Launches and dynamic shared memory go through these two macros so the same kernel sources also
// build for the CPU emulator (native/tests/cuda_emu/), which runs them in CI where there is no GPU.
// The kernel comes last so template arguments may contain commas.
#ifndef KK_LAUNCH
#define KK_LAUNCH(grid, block, shared_bytes, stream, ...) __VA_ARGS__<<<grid, block, shared_bytes, stream>>>
#endif
#ifndef KK_DYNAMIC_SHARED
#define KK_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

namespace kk::cuda {

constexpr int kWarp = 32;

__device__ __forceinline__ float bf16_to_f32(uint16_t h) { return __uint_as_float(uint32_t(h) << 16); }

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = kWarp / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide sum/max for blockDim.x a multiple of 32 (<= 1024). `red` is 32 floats of shared
// memory; every thread gets the result.
__device__ __forceinline__ float block_sum(float v, float* red) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, n_warps = blockDim.x / kWarp;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = lane < n_warps ? red[lane] : 0.f;
  return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* red) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, n_warps = blockDim.x / kWarp;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = lane < n_warps ? red[lane] : -INFINITY;
  return warp_max(v);
}

__device__ __forceinline__ float silu(float v) { return v / (1.f + expf(-v)); }

// Dot of one block_q4 (32 weights) with 32 activations. A block is 18 bytes, so only 2-byte
// alignment is guaranteed: the scale and quants are read as 9 read-only u16 loads.
__device__ __forceinline__ void load_q4(const block_q4* b, float w[KK_Q4_GROUP]) {
  const uint16_t* p = reinterpret_cast<const uint16_t*>(b);
  const float d = bf16_to_f32(__ldg(p));
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    const uint32_t v = __ldg(p + 1 + j);  // qs[2j] (low byte) and qs[2j+1]
    const uint32_t b0 = v & 0xffu, b1 = v >> 8;
    w[2 * j] = float(int(b0 & 15u) - 8) * d;
    w[2 * j + 16] = float(int(b0 >> 4) - 8) * d;
    w[2 * j + 1] = float(int(b1 & 15u) - 8) * d;
    w[2 * j + 17] = float(int(b1 >> 4) - 8) * d;
  }
}

__device__ __forceinline__ float dot32(const float w[KK_Q4_GROUP], const float* x) {
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < KK_Q4_GROUP / 4; ++i) {
    const float4 v = __ldg(x4 + i);
    s += w[4 * i] * v.x + w[4 * i + 1] * v.y + w[4 * i + 2] * v.z + w[4 * i + 3] * v.w;
  }
  return s;
}

// One warp: acc[tt] = Σ_c row[c] · xs[tt][c] for up to TT activation rows (xs[tt] == nullptr:
// skipped). Lanes take consecutive blocks, so a warp reads 32 × 18 contiguous bytes per step.
template <int TT>
__device__ __forceinline__ void q4_row_dot(const block_q4* row, int n_blocks, const float* const xs[TT],
                                           float acc[TT]) {
  const int lane = threadIdx.x % kWarp;
#pragma unroll
  for (int tt = 0; tt < TT; ++tt) acc[tt] = 0.f;
  for (int b = lane; b < n_blocks; b += kWarp) {
    float w[KK_Q4_GROUP];
    load_q4(row + b, w);
#pragma unroll
    for (int tt = 0; tt < TT; ++tt)
      if (xs[tt]) acc[tt] += dot32(w, xs[tt] + b * KK_Q4_GROUP);
  }
#pragma unroll
  for (int tt = 0; tt < TT; ++tt) acc[tt] = warp_sum(acc[tt]);
}

}  // namespace kk::cuda

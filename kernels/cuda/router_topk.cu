// router_topk.cu — the DeepSeek-V3 / K2 router on precomputed logits, one block per token, with
// exactly the semantics of model/router.cpp: sigmoid; bias only chooses; group limit with dropped
// groups' choices set to 0 (as HF); top-k by choice (ties: lower id); ids ascending; weights =
// sigmoid at the picks, normalised (+1e-20) and scaled.
#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kMaxGroups = 64;

__global__ void router_kernel(kk_router_args a, const float* __restrict__ logits, const float* __restrict__ bias,
                              int32_t* __restrict__ ids, float* __restrict__ weights) {
  __shared__ float s[KK_ROUTER_MAX_EXPERTS], choice[KK_ROUTER_MAX_EXPERTS];
  __shared__ float group_score[kMaxGroups];
  __shared__ int picked[KK_ROUTER_MAX_TOPK];
  const int t = blockIdx.x, E = a.n_experts, K = a.top_k;
  const float* lg = logits + size_t(t) * E;
  for (int e = threadIdx.x; e < E; e += blockDim.x) {
    s[e] = 1.f / (1.f + expf(-lg[e]));
    choice[e] = s[e] + (bias ? bias[e] : 0.f);
  }
  __syncthreads();
  const int G = a.n_group > 1 ? a.n_group : 1, per_group = E / G;
  if (G > 1 && a.topk_group < G) {
    if (threadIdx.x < G) {  // sum of the two largest choices of the group
      float x1 = -INFINITY, x2 = -INFINITY;
      for (int e = threadIdx.x * per_group; e < (threadIdx.x + 1) * per_group; ++e) {
        const float c = choice[e];
        if (c > x1) { x2 = x1; x1 = c; } else if (c > x2) { x2 = c; }
      }
      group_score[threadIdx.x] = x1 + (per_group > 1 ? x2 : 0.f);
    }
    __syncthreads();
    if (threadIdx.x < G) {  // rank of this group (stable: ties go to the lower group id)
      const float mine = group_score[threadIdx.x];
      int rank = 0;
      for (int g = 0; g < G; ++g)
        rank += group_score[g] > mine || (group_score[g] == mine && g < int(threadIdx.x));
      if (rank >= a.topk_group)
        for (int e = threadIdx.x * per_group; e < (threadIdx.x + 1) * per_group; ++e) choice[e] = 0.f;
    }
    __syncthreads();
  }
  if (threadIdx.x < kWarp) {  // warp 0: K rounds of argmax (ties to the lower id)
    const int lane = threadIdx.x;
    for (int k = 0; k < K; ++k) {
      float best = -INFINITY;
      int best_e = E;
      for (int e = lane; e < E; e += kWarp) {
        bool taken = false;
        for (int j = 0; j < k; ++j) taken |= picked[j] == e;
        if (!taken && (choice[e] > best || best_e == E)) { best = choice[e]; best_e = e; }
      }
      for (int o = kWarp / 2; o > 0; o >>= 1) {
        const float ob = __shfl_xor_sync(0xffffffffu, best, o);
        const int oe = __shfl_xor_sync(0xffffffffu, best_e, o);
        if (oe < E && (best_e == E || ob > best || (ob == best && oe < best_e))) { best = ob; best_e = oe; }
      }
      if (lane == 0) picked[k] = best_e;
      __syncwarp();
    }
    if (lane == 0) {
      for (int i = 1; i < K; ++i)  // ids ascending (insertion sort of K ≤ 32)
        for (int j = i; j > 0 && picked[j - 1] > picked[j]; --j) { const int x = picked[j]; picked[j] = picked[j - 1]; picked[j - 1] = x; }
      float sum = 0.f;
      for (int k = 0; k < K; ++k) sum += s[picked[k]];
      for (int k = 0; k < K; ++k) {
        float w = s[picked[k]];
        if (a.norm_topk_prob) w /= (sum + 1e-20f);
        ids[size_t(t) * K + k] = picked[k];
        weights[size_t(t) * K + k] = w * a.routed_scaling_factor;
      }
    }
  }
}

}  // namespace

cudaError_t launch_router_topk(const kk_router_args& a, const float* logits, const float* bias, int32_t* ids,
                               float* weights, cudaStream_t s) {
  if (a.n_tokens < 0 || a.n_experts <= 0 || a.n_experts > KK_ROUTER_MAX_EXPERTS || a.top_k <= 0 ||
      a.top_k > KK_ROUTER_MAX_TOPK || a.top_k > a.n_experts || a.n_group > kMaxGroups ||
      (a.n_group > 1 && a.n_experts % a.n_group != 0))
    return cudaErrorInvalidValue;
  if (a.n_tokens == 0) return cudaSuccess;
  KK_LAUNCH(a.n_tokens, kThreads, 0, s, router_kernel)(a, logits, bias, ids, weights);
  return cudaGetLastError();
}

}  // namespace kk::cuda

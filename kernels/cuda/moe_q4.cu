// moe_q4.cu — the routed experts of one MoE layer over INT4 weights, grouped by expert.
//
// Like the CPU op (cpu/moe.cpp): (token, slot) pairs are grouped by expert so each resident
// expert's weights stream once for all tokens routed to it; experts not resident on the GPU
// (slot_of[e] < 0) are skipped — the CPU computes those in the hybrid step.
//   1. group:   one block counts pairs per expert and lists them, expert by expert;
//   2. gate_up: grid (row tiles of inter, active experts): h[pos] = silu(gate·x) ⊙ (up·x);
//   3. down:    grid (row tiles of hidden, active experts): out[pair] = w · down·h[pos];
//   4. combine: y[t] (=|+=) Σ_k out[t, k] in slot order (deterministic: no float atomics).
// Long prompts are processed kTokenChunk tokens at a time so the workspace stays bounded.
#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kTokenTile = 4;
// Tokens per pass: the workspace holds chunk·top_k rows of inter and hidden floats (≈ 70 MB
// for K2 at 256 tokens).
constexpr int kTokenChunk = 256;
constexpr int kGroupThreads = 1024;
constexpr int kMaxExperts = 8192;  // the group kernel keeps per-expert counts in shared memory

struct Workspace {
  int* offsets;   // [E + 1] first sorted position of each expert
  int* active;    // [E] experts with at least one resident pair, in id order
  int* n_active;  // [1]
  int* pairs;     // [chunk pairs] pair index (t * top_k + k) by sorted position
  float* h;       // [chunk pairs][inter] by sorted position
  float* out;     // [chunk pairs][hidden] by pair index
};

size_t align256(size_t b) { return (b + 255) & ~size_t(255); }

int chunk_tokens(const kk_moe_args& a) { return a.n_tokens < kTokenChunk ? a.n_tokens : kTokenChunk; }

Workspace carve(const kk_moe_args& a, void* base, size_t* total) {
  const size_t pairs = size_t(chunk_tokens(a)) * a.top_k;
  char* p = static_cast<char*>(base);
  size_t off = 0;
  Workspace w;
  auto take = [&](size_t bytes) { char* q = p ? p + off : nullptr; off += align256(bytes); return q; };
  w.offsets = reinterpret_cast<int*>(take(sizeof(int) * (a.n_experts + 1)));
  w.active = reinterpret_cast<int*>(take(sizeof(int) * a.n_experts));
  w.n_active = reinterpret_cast<int*>(take(sizeof(int)));
  w.pairs = reinterpret_cast<int*>(take(sizeof(int) * pairs));
  w.h = reinterpret_cast<float*>(take(sizeof(float) * pairs * a.inter));
  w.out = reinterpret_cast<float*>(take(sizeof(float) * pairs * a.hidden));
  if (total) *total = off;
  return w;
}

__device__ __forceinline__ bool resident(const int32_t* slot_of, int E, int e) {
  return e >= 0 && e < E && slot_of[e] >= 0;
}

__global__ void moe_group_kernel(const int32_t* __restrict__ ids, int n_pairs, int E,
                                 const int32_t* __restrict__ slot_of, Workspace w) {
  KK_DYNAMIC_SHARED(int, cursor);  // [E]
  for (int e = threadIdx.x; e < E; e += blockDim.x) cursor[e] = 0;
  __syncthreads();
  for (int p = threadIdx.x; p < n_pairs; p += blockDim.x) {
    const int e = ids[p];
    if (resident(slot_of, E, e)) atomicAdd(&cursor[e], 1);
  }
  __syncthreads();
  if (threadIdx.x == 0) {  // E is a few hundred: a serial scan is cheaper than a parallel one here
    int pos = 0, na = 0;
    for (int e = 0; e < E; ++e) {
      const int c = cursor[e];
      w.offsets[e] = pos;
      cursor[e] = pos;
      if (c > 0) w.active[na++] = e;
      pos += c;
    }
    w.offsets[E] = pos;
    *w.n_active = na;
  }
  __syncthreads();
  for (int p = threadIdx.x; p < n_pairs; p += blockDim.x) {
    const int e = ids[p];
    if (resident(slot_of, E, e)) w.pairs[atomicAdd(&cursor[e], 1)] = p;
  }
}

__global__ void moe_gate_up_kernel(const block_q4* __restrict__ gate, const block_q4* __restrict__ up,
                                   const int32_t* __restrict__ slot_of, const float* __restrict__ x,
                                   int hidden, int inter, int top_k, Workspace w) {
  if (int(blockIdx.y) >= *w.n_active) return;
  const int e = w.active[blockIdx.y];
  const int r = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
  if (r >= inter) return;
  const int nb = hidden / KK_Q4_GROUP;
  const size_t row = size_t(slot_of[e]) * inter + r;
  const block_q4* g_row = gate + row * nb;
  const block_q4* u_row = up + row * nb;
  const int first = w.offsets[e], count = w.offsets[e + 1] - first;
  for (int i0 = 0; i0 < count; i0 += kTokenTile) {
    const float* xs[kTokenTile];
#pragma unroll
    for (int tt = 0; tt < kTokenTile; ++tt)
      xs[tt] = i0 + tt < count ? x + size_t(w.pairs[first + i0 + tt] / top_k) * hidden : nullptr;
    float g[kTokenTile], u[kTokenTile];
    q4_row_dot<kTokenTile>(g_row, nb, xs, g);
    q4_row_dot<kTokenTile>(u_row, nb, xs, u);
    if (threadIdx.x % kWarp == 0)
#pragma unroll
      for (int tt = 0; tt < kTokenTile; ++tt)
        if (i0 + tt < count) w.h[size_t(first + i0 + tt) * inter + r] = silu(g[tt]) * u[tt];
  }
}

__global__ void moe_down_kernel(const block_q4* __restrict__ down, const int32_t* __restrict__ slot_of,
                                const float* __restrict__ weights, int hidden, int inter, Workspace w) {
  if (int(blockIdx.y) >= *w.n_active) return;
  const int e = w.active[blockIdx.y];
  const int r = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
  if (r >= hidden) return;
  const int nb = inter / KK_Q4_GROUP;
  const block_q4* d_row = down + (size_t(slot_of[e]) * hidden + r) * nb;
  const int first = w.offsets[e], count = w.offsets[e + 1] - first;
  for (int i0 = 0; i0 < count; i0 += kTokenTile) {
    const float* hs[kTokenTile];
#pragma unroll
    for (int tt = 0; tt < kTokenTile; ++tt) hs[tt] = i0 + tt < count ? w.h + size_t(first + i0 + tt) * inter : nullptr;
    float acc[kTokenTile];
    q4_row_dot<kTokenTile>(d_row, nb, hs, acc);
    if (threadIdx.x % kWarp == 0)
#pragma unroll
      for (int tt = 0; tt < kTokenTile; ++tt)
        if (i0 + tt < count) {
          const int p = w.pairs[first + i0 + tt];
          w.out[size_t(p) * hidden + r] = weights[p] * acc[tt];
        }
  }
}

__global__ void moe_combine_kernel(const int32_t* __restrict__ ids, const int32_t* __restrict__ slot_of, int E,
                                   int top_k, int hidden, int accumulate, Workspace w, float* __restrict__ y) {
  const int t = blockIdx.x;
  for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
    float s = 0.f;
    for (int k = 0; k < top_k; ++k) {
      const int p = t * top_k + k;
      if (resident(slot_of, E, ids[p])) s += w.out[size_t(p) * hidden + c];
    }
    float* yo = y + size_t(t) * hidden + c;
    *yo = accumulate ? *yo + s : s;
  }
}

}  // namespace

size_t moe_workspace_bytes(const kk_moe_args& a) {
  size_t total = 0;
  carve(a, nullptr, &total);
  return total;
}

cudaError_t launch_moe_q4(const kk_moe_args& a, const block_q4* gate, const block_q4* up, const block_q4* down,
                          const int32_t* slot_of, const float* x, const int32_t* ids, const float* weights,
                          float* y, void* workspace, cudaStream_t s) {
  if (a.n_tokens < 0 || a.top_k <= 0 || a.hidden <= 0 || a.inter <= 0 || a.hidden % KK_Q4_GROUP != 0 ||
      a.inter % KK_Q4_GROUP != 0 || a.n_experts <= 0 || a.n_experts > kMaxExperts || !workspace)
    return cudaErrorInvalidValue;
  if (reinterpret_cast<uintptr_t>(x) % 16 != 0) return cudaErrorMisalignedAddress;  // float4 loads
  const Workspace w = carve(a, workspace, nullptr);
  const int chunk = chunk_tokens(a);
  for (int t0 = 0; t0 < a.n_tokens; t0 += chunk) {
    const int nt = a.n_tokens - t0 < chunk ? a.n_tokens - t0 : chunk;
    const int n_pairs = nt * a.top_k;
    const int32_t* c_ids = ids + size_t(t0) * a.top_k;
    const float* c_x = x + size_t(t0) * a.hidden;
    // Experts that can be active in this chunk: at most one per pair.
    const int max_active = n_pairs < a.n_experts ? n_pairs : a.n_experts;
    KK_LAUNCH(1, kGroupThreads, sizeof(int) * a.n_experts, s, moe_group_kernel)(c_ids, n_pairs, a.n_experts, slot_of, w);
    const dim3 gu((a.inter + kRowsPerBlock - 1) / kRowsPerBlock, max_active);
    KK_LAUNCH(gu, kRowsPerBlock * kWarp, 0, s, moe_gate_up_kernel)(gate, up, slot_of, c_x, a.hidden, a.inter, a.top_k, w);
    const dim3 dn((a.hidden + kRowsPerBlock - 1) / kRowsPerBlock, max_active);
    KK_LAUNCH(dn, kRowsPerBlock * kWarp, 0, s, moe_down_kernel)(down, slot_of, weights + size_t(t0) * a.top_k, a.hidden,
                                                         a.inter, w);
    KK_LAUNCH(nt, 256, 0, s, moe_combine_kernel)(c_ids, slot_of, a.n_experts, a.top_k, a.hidden, a.accumulate, w,
                                          y + size_t(t0) * a.hidden);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

}  // namespace kk::cuda

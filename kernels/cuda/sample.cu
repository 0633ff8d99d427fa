// sample.cu — argmax (temperature <= 0) or a categorical draw from softmax(logits / T) given a
// uniform u per row, one block per row. The draw is the smallest index whose cumulative
// probability exceeds u·Σ: threads sum contiguous slices, one thread walks the slice sums and then
// the one slice that holds the target, so the result does not depend on scheduling.
// Top-k / top-p / min-p / penalties stay on the CPU (sample/sampler.h) on the copied logits.
#include "launch.h"
#include "kk_cuda_common.cuh"

namespace kk::cuda {

namespace {

constexpr int kThreads = 1024;

__global__ void sample_kernel(kk_sample_args a, const float* __restrict__ logits, const float* __restrict__ uniform,
                              int32_t* __restrict__ out) {
  __shared__ float red[kWarp];
  __shared__ float slice_sum[kThreads];
  __shared__ int red_i[kWarp];
  const int V = a.vocab;
  const float* l = logits + size_t(blockIdx.x) * V;
  const bool greedy = !(a.temperature > 0.f) || !uniform;
  // Argmax with ties to the lower index (as sample/sampler.cpp argmax).
  float best = -INFINITY;
  int best_i = V;
  for (int i = threadIdx.x; i < V; i += blockDim.x)
    if (l[i] > best || best_i == V) { best = l[i]; best_i = i; }
  for (int o = kWarp / 2; o > 0; o >>= 1) {
    const float ob = __shfl_xor_sync(0xffffffffu, best, o);
    const int oi = __shfl_xor_sync(0xffffffffu, best_i, o);
    if (oi < V && (best_i == V || ob > best || (ob == best && oi < best_i))) { best = ob; best_i = oi; }
  }
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  if (lane == 0) { red[warp] = best; red_i[warp] = best_i; }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < int(blockDim.x) / kWarp; ++w)
      if (red_i[w] < V && (red_i[0] == V || red[w] > red[0] || (red[w] == red[0] && red_i[w] < red_i[0]))) {
        red[0] = red[w];
        red_i[0] = red_i[w];
      }
  }
  __syncthreads();
  const float mx = red[0];
  const int arg = red_i[0];
  if (greedy) {
    if (threadIdx.x == 0) out[blockIdx.x] = arg;
    return;
  }
  const float inv_t = 1.f / a.temperature;
  const int per = (V + blockDim.x - 1) / blockDim.x;
  const int b0 = threadIdx.x * per, b1 = min(V, b0 + per);
  float sum = 0.f;
  for (int i = b0; i < b1; ++i) sum += expf((l[i] - mx) * inv_t);
  slice_sum[threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.f;
    for (int j = 0; j < int(blockDim.x); ++j) total += slice_sum[j];
    const float target = uniform[blockIdx.x] * total;
    // Rounding can leave the target at or past the last partial sum: then the last index with
    // any probability mass wins (the walk below ends there).
    float acc = 0.f;
    int pick = -1, last = arg;
    for (int j = 0; j < int(blockDim.x) && pick < 0; ++j) {
      const int s0 = j * per, s1 = min(V, s0 + per);
      if (slice_sum[j] > 0.f && s1 > s0) last = s1 - 1;
      if (acc + slice_sum[j] <= target) { acc += slice_sum[j]; continue; }
      for (int i = s0; i < s1; ++i) {
        acc += expf((l[i] - mx) * inv_t);
        if (acc > target) { pick = i; break; }
      }
      if (pick < 0) pick = s1 - 1;
    }
    if (pick < 0) pick = last;
    out[blockIdx.x] = pick;
  }
}

}  // namespace

cudaError_t launch_sample(const kk_sample_args& a, const float* logits, const float* uniform, int32_t* out,
                          cudaStream_t s) {
  if (a.n_rows < 0 || a.vocab <= 0) return cudaErrorInvalidValue;
  if (a.n_rows == 0) return cudaSuccess;
  KK_LAUNCH(a.n_rows, kThreads, 0, s, sample_kernel)(a, logits, uniform, out);
  return cudaGetLastError();
}

}  // namespace kk::cuda

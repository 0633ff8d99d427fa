// cuda_runtime.h (CPU emulator) — the subset of the CUDA runtime and device language that
// kernels/cuda/*.cu and kernels/cuda/plugin.cpp use, so they build with the C++ compiler and run
// on the CPU (test_cuda_emu). This is a test harness, not a backend: each block's threads are
// cooperative fibers, __syncthreads / warp shuffles are barriers between them, blocks run one after
// another. It checks the kernels' indexing, arithmetic, barriers and launch limits; it cannot
// check the GPU memory model, timing or anything the hardware does beyond these semantics.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
// Blocks run one at a time, so a function-local static is exactly one block's shared memory.
#define __shared__ static

// ---- types ----
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 { unsigned x, y, z; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) uint4 { unsigned x, y, z, w; };

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorMisalignedAddress = 716,
};
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1 };
#define cudaStreamNonBlocking 0x01
typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
typedef struct CUgraph_st* cudaGraph_t;
typedef struct CUgraphExec_st* cudaGraphExec_t;
struct cudaDeviceProp {
  char name[256];
  int major, minor, multiProcessorCount;
};

// ---- the emulator ----
namespace kkemu {
struct ThreadCtx;
ThreadCtx* current();
const uint3& thread_idx();
extern uint3 g_block_idx;
extern dim3 g_block_dim, g_grid_dim;
void* dynamic_shared();
void sync_block();
void sync_warp();
uint32_t shuffle_xor(uint32_t bits, int lane_mask);
void launch(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t s, std::function<void()> body);
void set_error(cudaError_t e);

template <typename... P>
struct Launcher {
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;
  void (*kernel)(P...);
  template <typename... A>
  void operator()(A&&... a) const {
    std::tuple<std::decay_t<P>...> args(std::forward<A>(a)...);
    auto k = kernel;
    launch(grid, block, shared_bytes, stream, [k, args]() { std::apply(k, args); });
  }
};
template <typename... P>
Launcher<P...> make_launcher(dim3 g, dim3 b, size_t sh, cudaStream_t s, void (*k)(P...)) {
  return Launcher<P...>{g, b, sh, s, k};
}
}  // namespace kkemu

#define threadIdx (::kkemu::thread_idx())
#define blockIdx (::kkemu::g_block_idx)
#define blockDim (::kkemu::g_block_dim)
#define gridDim (::kkemu::g_grid_dim)
#define KK_LAUNCH(grid, block, shared_bytes, stream, ...) \
  ::kkemu::make_launcher(dim3(grid), dim3(block), size_t(shared_bytes), stream, &__VA_ARGS__)
#define KK_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::kkemu::dynamic_shared())

// ---- device functions ----
inline void __syncthreads() { kkemu::sync_block(); }
inline void __syncwarp(unsigned = 0xffffffffu) { kkemu::sync_warp(); }
template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int lane_mask) {
  static_assert(sizeof(T) == 4, "32-bit shuffles only");
  uint32_t b;
  std::memcpy(&b, &v, 4);
  b = kkemu::shuffle_xor(b, lane_mask);
  std::memcpy(&v, &b, 4);
  return v;
}
template <typename T> inline T __ldg(const T* p) { return *p; }
inline float __uint_as_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
// Fibers are not preemptive: an atomic is a plain read-modify-write.
inline int atomicAdd(int* p, int v) { const int old = *p; *p = old + v; return old; }

// ---- runtime API ----
cudaError_t cudaGetLastError();
const char* cudaGetErrorName(cudaError_t e);
const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetDeviceCount(int* n);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDevice(int* d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d);
cudaError_t cudaMemGetInfo(size_t* free_b, size_t* total_b);
cudaError_t cudaMalloc(void** p, size_t n);
cudaError_t cudaFree(void* p);
cudaError_t cudaMallocHost(void** p, size_t n);
cudaError_t cudaFreeHost(void* p);
cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind k, cudaStream_t st);
cudaError_t cudaMemsetAsync(void* d, int v, size_t n, cudaStream_t st);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags);
cudaError_t cudaEventCreate(cudaEvent_t* e);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t g, unsigned long long flags);
cudaError_t cudaGraphDestroy(cudaGraph_t g);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);

// plugin.cpp — libkk_cuda.so: the kk_cuda_plugin table over the CUDA runtime and the kernels of
// kernels/cuda/. Built only with -DKK_CUDA=ON, linked against the static CUDA runtime so the only
// run-time dependency is the driver (libcuda.so), which the runtime itself opens lazily: without
// it device_count() reports 0 and the engine stays on the CPU.
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "launch.h"
#include "kk_cuda_plugin_abi.h"

namespace kk::cuda {
namespace {

thread_local std::string t_last_error;

int fail(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return 0;
  t_last_error = std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  return int(e);
}

cudaStream_t S(kk_cuda_stream s) { return reinterpret_cast<cudaStream_t>(s); }

int device_count() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    fail(e, "cudaGetDeviceCount");
    // The runtime reports a missing driver as "insufficient": say plainly which it is.
    if (void* drv = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) dlclose(drv);
    else t_last_error = "no NVIDIA driver (libcuda.so.1 not found); " + t_last_error;
    cudaGetLastError();  // clear the error so later calls start clean
    return 0;
  }
  return n;
}

int set_device(int d) { return fail(cudaSetDevice(d), "cudaSetDevice"); }

int device_info(int d, kk_cuda_device_info* out) {
  cudaDeviceProp p;
  if (int r = fail(cudaGetDeviceProperties(&p, d), "cudaGetDeviceProperties")) return r;
  std::memset(out, 0, sizeof *out);
  std::snprintf(out->name, sizeof out->name, "%s", p.name);
  out->cc_major = p.major;
  out->cc_minor = p.minor;
  out->sm_count = p.multiProcessorCount;
  size_t free_b = 0, total_b = 0;
  int prev = 0;
  cudaGetDevice(&prev);
  if (prev != d) cudaSetDevice(d);
  const int r = fail(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  if (prev != d) cudaSetDevice(prev);
  out->free_bytes = int64_t(free_b);
  out->total_bytes = int64_t(total_b);
  return r;
}

const char* last_error() { return t_last_error.c_str(); }

void* dev_alloc(size_t bytes) {
  void* p = nullptr;
  return fail(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc") ? nullptr : p;
}
void dev_free(void* p) { if (p) cudaFree(p); }
void* host_alloc_pinned(size_t bytes) {
  void* p = nullptr;
  return fail(cudaMallocHost(&p, bytes ? bytes : 1), "cudaMallocHost") ? nullptr : p;
}
void host_free_pinned(void* p) { if (p) cudaFreeHost(p); }

int memcpy_h2d(void* d, const void* s, size_t n, kk_cuda_stream st) {
  return fail(cudaMemcpyAsync(d, s, n, cudaMemcpyHostToDevice, S(st)), "memcpy_h2d");
}
int memcpy_d2h(void* d, const void* s, size_t n, kk_cuda_stream st) {
  return fail(cudaMemcpyAsync(d, s, n, cudaMemcpyDeviceToHost, S(st)), "memcpy_d2h");
}
int memcpy_d2d(void* d, const void* s, size_t n, kk_cuda_stream st) {
  return fail(cudaMemcpyAsync(d, s, n, cudaMemcpyDeviceToDevice, S(st)), "memcpy_d2d");
}
int memset_d(void* d, int v, size_t n, kk_cuda_stream st) { return fail(cudaMemsetAsync(d, v, n, S(st)), "memset"); }

kk_cuda_stream stream_create() {
  cudaStream_t s = nullptr;
  if (fail(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate")) return nullptr;
  return reinterpret_cast<kk_cuda_stream>(s);
}
void stream_destroy(kk_cuda_stream s) { if (s) cudaStreamDestroy(S(s)); }
int stream_sync(kk_cuda_stream s) { return fail(cudaStreamSynchronize(S(s)), "cudaStreamSynchronize"); }

kk_cuda_event event_create() {
  cudaEvent_t e = nullptr;
  if (fail(cudaEventCreate(&e), "cudaEventCreate")) return nullptr;
  return reinterpret_cast<kk_cuda_event>(e);
}
cudaEvent_t E(kk_cuda_event e) { return reinterpret_cast<cudaEvent_t>(e); }
void event_destroy(kk_cuda_event e) { if (e) cudaEventDestroy(E(e)); }
int event_record(kk_cuda_event e, kk_cuda_stream s) { return fail(cudaEventRecord(E(e), S(s)), "cudaEventRecord"); }
int stream_wait_event(kk_cuda_stream s, kk_cuda_event e) {
  return fail(cudaStreamWaitEvent(S(s), E(e), 0), "cudaStreamWaitEvent");
}
int event_sync(kk_cuda_event e) { return fail(cudaEventSynchronize(E(e)), "cudaEventSynchronize"); }
int event_elapsed_ms(kk_cuda_event a, kk_cuda_event b, float* ms) {
  return fail(cudaEventElapsedTime(ms, E(a), E(b)), "cudaEventElapsedTime");
}

int graph_begin(kk_cuda_stream s) {
  return fail(cudaStreamBeginCapture(S(s), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
}
int graph_end(kk_cuda_stream s, kk_cuda_graph* out) {
  cudaGraph_t g = nullptr;
  if (int r = fail(cudaStreamEndCapture(S(s), &g), "cudaStreamEndCapture")) return r;
  cudaGraphExec_t exec = nullptr;
  const int r = fail(cudaGraphInstantiate(&exec, g, 0), "cudaGraphInstantiate");
  cudaGraphDestroy(g);
  if (r) return r;
  *out = reinterpret_cast<kk_cuda_graph>(exec);
  return 0;
}
int graph_launch(kk_cuda_graph g, kk_cuda_stream s) {
  return fail(cudaGraphLaunch(reinterpret_cast<cudaGraphExec_t>(g), S(s)), "cudaGraphLaunch");
}
void graph_destroy(kk_cuda_graph g) { if (g) cudaGraphExecDestroy(reinterpret_cast<cudaGraphExec_t>(g)); }

int matmul_q4(const kk_matmul_args* a, const block_q4* W, const float* x, float* y, kk_cuda_stream s) {
  return fail(launch_matmul_q4(*a, W, x, y, S(s)), "matmul_q4");
}
int matmul_bf16(const kk_matmul_args* a, const uint16_t* W, const float* x, float* y, kk_cuda_stream s) {
  return fail(launch_matmul_bf16(*a, W, x, y, S(s)), "matmul_bf16");
}
int matmul_f32(const kk_matmul_args* a, const float* W, const float* x, float* y, kk_cuda_stream s) {
  return fail(launch_matmul_f32(*a, W, x, y, S(s)), "matmul_f32");
}
size_t moe_ws(const kk_moe_args* a) { return moe_workspace_bytes(*a); }
int moe_q4(const kk_moe_args* a, const block_q4* g, const block_q4* u, const block_q4* d, const int32_t* slot_of,
           const float* x, const int32_t* ids, const float* w, float* y, void* ws, kk_cuda_stream s) {
  return fail(launch_moe_q4(*a, g, u, d, slot_of, x, ids, w, y, ws, S(s)), "moe_q4");
}
int rmsnorm(const kk_rmsnorm_args* a, const float* x, const float* w, float* y, kk_cuda_stream s) {
  return fail(launch_rmsnorm(*a, x, w, y, S(s)), "rmsnorm");
}
int rope(const kk_rope_args* a, float* x, const int32_t* pos, const float* inv_freq, kk_cuda_stream s) {
  return fail(launch_rope(*a, x, pos, inv_freq, S(s)), "rope");
}
int mla_splits(const kk_mla_decode_args* a) { return mla_decode_splits(*a); }
size_t mla_ws(const kk_mla_decode_args* a, int n_splits) { return mla_decode_workspace_bytes(*a, n_splits); }
int mla_decode(const kk_mla_decode_args* a, int n_splits, const float* q_lat, const float* q_pe, const void* cache,
               const int32_t* block_table, float* out, void* ws, kk_cuda_stream s) {
  return fail(launch_mla_decode(*a, n_splits, q_lat, q_pe, cache, block_table, out, ws, S(s)), "mla_decode");
}
int router_topk(const kk_router_args* a, const float* logits, const float* bias, int32_t* ids, float* w,
                kk_cuda_stream s) {
  return fail(launch_router_topk(*a, logits, bias, ids, w, S(s)), "router_topk");
}
int sample(const kk_sample_args* a, const float* logits, const float* u, int32_t* out, kk_cuda_stream s) {
  return fail(launch_sample(*a, logits, u, out, S(s)), "sample");
}
int silu_mul(int64_t n, const float* g, const float* u, float* o, kk_cuda_stream s) {
  return fail(launch_silu_mul(n, g, u, o, S(s)), "silu_mul");
}
int add_inplace(int64_t n, const float* x, float* y, kk_cuda_stream s) {
  return fail(launch_add_inplace(n, x, y, S(s)), "add_inplace");
}
int embed_bf16(int n, int hidden, const int32_t* ids, const uint16_t* table, float* out, kk_cuda_stream s) {
  return fail(launch_embed_bf16(n, hidden, ids, table, out, S(s)), "embed_bf16");
}

const kk_cuda_plugin kTable = {
    KK_CUDA_PLUGIN_ABI, int(sizeof(kk_cuda_plugin)),
    device_count, set_device, device_info, last_error,
    dev_alloc, dev_free, host_alloc_pinned, host_free_pinned, memcpy_h2d, memcpy_d2h, memcpy_d2d, memset_d,
    stream_create, stream_destroy, stream_sync, event_create, event_destroy, event_record, stream_wait_event,
    event_sync, event_elapsed_ms, graph_begin, graph_end, graph_launch, graph_destroy,
    matmul_q4, matmul_bf16, matmul_f32, moe_ws, moe_q4, rmsnorm, rope, mla_splits, mla_ws, mla_decode,
    router_topk, sample, silu_mul, add_inplace, embed_bf16,
};

}  // namespace
}  // namespace kk::cuda

extern "C" __attribute__((visibility("default"))) const kk_cuda_plugin* kk_cuda_plugin_get(int abi_version) {
  return abi_version == KK_CUDA_PLUGIN_ABI ? &kk::cuda::kTable : nullptr;
}

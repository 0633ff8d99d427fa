// cuda_emu.cpp — the CPU emulator behind cuda_runtime.h (tests only): fibers for threads,
// barriers for __syncthreads and shuffles, launch-limit checks, and a recorder for stream capture.
#include "cuda_runtime.h"

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace kkemu {

// Hardware limits the launches must respect (as on sm_80 / sm_90 without opt-in).
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr unsigned kMaxGridYZ = 65535;
constexpr size_t kMaxSharedBytes = 48 * 1024;
constexpr size_t kFiberStack = 64 * 1024;
constexpr int kWarpSize = 32;

enum Wait { kRunning = 0, kAtBlockBarrier, kAtWarpBarrier };

// Fiber switch. On x86-64 a hand-written switch of the callee-saved registers (swapcontext also
// saves the signal mask with a system call per switch, which made the suite 3x slower); elsewhere
// ucontext.
#if defined(__x86_64__)
extern "C" void kkemu_switch(void** save_sp, void* load_sp);
asm(R"(
.text
.globl kkemu_switch
.type kkemu_switch,@function
kkemu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size kkemu_switch, .-kkemu_switch
.section .note.GNU-stack,"",@progbits
.text
)");
struct Context { void* sp = nullptr; };
#else
struct Context { ucontext_t uc; };
#endif

struct ThreadCtx {
  Context ctx;
  uint3 tid;
  int index = 0;
  bool done = false;
  Wait wait = kRunning;
  std::unique_ptr<char[]> stack;
};

uint3 g_block_idx;
dim3 g_block_dim, g_grid_dim;

namespace {
Context g_scheduler;
ThreadCtx* g_current = nullptr;
std::vector<std::unique_ptr<ThreadCtx>> g_threads;
std::vector<unsigned char> g_dynamic_shared;
uint32_t g_shuffle_slots[kMaxThreadsPerBlock];
const std::function<void()>* g_body = nullptr;
cudaError_t g_last_error = cudaSuccess;
cudaStream_t g_capturing = nullptr;
std::vector<std::function<void()>>* g_recording = nullptr;

void switch_to(Context* save, Context* load) {
#if defined(__x86_64__)
  kkemu_switch(&save->sp, load->sp);
#else
  swapcontext(&save->uc, &load->uc);
#endif
}

void fiber_entry() {
  (*g_body)();
  g_current->done = true;
  switch_to(&g_current->ctx, &g_scheduler);  // never resumed
}

void init_fiber(ThreadCtx& t) {
#if defined(__x86_64__)
  // Stack as kkemu_switch expects to pop it: six callee-saved registers, then the return address
  // (fiber_entry), then a fake return address of fiber_entry itself, 16-byte aligned as at a call.
  uintptr_t top = (reinterpret_cast<uintptr_t>(t.stack.get()) + kFiberStack) & ~uintptr_t(15);
  void** sp = reinterpret_cast<void**>(top);
  *--sp = nullptr;
  *--sp = reinterpret_cast<void*>(&fiber_entry);
  for (int i = 0; i < 6; ++i) *--sp = nullptr;
  t.ctx.sp = sp;
#else
  getcontext(&t.ctx.uc);
  t.ctx.uc.uc_stack.ss_sp = t.stack.get();
  t.ctx.uc.uc_stack.ss_size = kFiberStack;
  t.ctx.uc.uc_link = nullptr;
  makecontext(&t.ctx.uc, fiber_entry, 0);
#endif
}

void wait_at(Wait w) {
  g_current->wait = w;
  switch_to(&g_current->ctx, &g_scheduler);
}

void run_block(unsigned n_threads) {
  while (g_threads.size() < n_threads) {
    g_threads.push_back(std::make_unique<ThreadCtx>());
    g_threads.back()->stack.reset(new char[kFiberStack]);
  }
  for (unsigned i = 0; i < n_threads; ++i) {
    ThreadCtx& t = *g_threads[i];
    t.index = int(i);
    t.tid = {i % g_block_dim.x, (i / g_block_dim.x) % g_block_dim.y, i / (g_block_dim.x * g_block_dim.y)};
    t.done = false;
    t.wait = kRunning;
    init_fiber(t);
  }
  for (;;) {
    for (unsigned i = 0; i < n_threads; ++i) {
      ThreadCtx& t = *g_threads[i];
      if (t.done || t.wait != kRunning) continue;
      g_current = &t;
      switch_to(&g_scheduler, &t.ctx);
    }
    // Everyone is finished or waiting: release whichever barrier is complete.
    unsigned live = 0, at_block = 0;
    for (unsigned i = 0; i < n_threads; ++i) {
      live += !g_threads[i]->done;
      at_block += !g_threads[i]->done && g_threads[i]->wait == kAtBlockBarrier;
    }
    if (live == 0) break;
    bool released = false;
    if (at_block == live) {
      for (unsigned i = 0; i < n_threads; ++i) g_threads[i]->wait = kRunning;
      released = true;
    } else {
      for (unsigned w0 = 0; w0 < n_threads; w0 += kWarpSize) {
        const unsigned w1 = std::min<unsigned>(n_threads, w0 + kWarpSize);
        unsigned lanes_live = 0, lanes_waiting = 0;
        for (unsigned i = w0; i < w1; ++i) {
          lanes_live += !g_threads[i]->done;
          lanes_waiting += !g_threads[i]->done && g_threads[i]->wait == kAtWarpBarrier;
        }
        if (lanes_live > 0 && lanes_waiting == lanes_live) {
          for (unsigned i = w0; i < w1; ++i) g_threads[i]->wait = kRunning;
          released = true;
        }
      }
    }
    if (!released) {
      std::fprintf(stderr, "cuda_emu: deadlock (divergent barrier) in block (%u,%u,%u)\n", g_block_idx.x,
                   g_block_idx.y, g_block_idx.z);
      std::abort();
    }
  }
}

void run_grid(dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body) {
  g_grid_dim = grid;
  g_block_dim = block;
  g_body = &body;
  g_dynamic_shared.assign(shared_bytes ? shared_bytes : 1, 0);
  const unsigned n_threads = block.x * block.y * block.z;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        g_block_idx = {x, y, z};
        // Shared memory starts as garbage on a GPU: NaN-filled here, so a read before write shows.
        std::memset(g_dynamic_shared.data(), 0xff, g_dynamic_shared.size());
        run_block(n_threads);
      }
}

}  // namespace

ThreadCtx* current() { return g_current; }
const uint3& thread_idx() { return g_current->tid; }
void* dynamic_shared() { return g_dynamic_shared.data(); }
void set_error(cudaError_t e) { if (g_last_error == cudaSuccess) g_last_error = e; }
void sync_block() { wait_at(kAtBlockBarrier); }
void sync_warp() { wait_at(kAtWarpBarrier); }

uint32_t shuffle_xor(uint32_t bits, int lane_mask) {
  const int i = g_current->index, lane = i % kWarpSize;
  g_shuffle_slots[i] = bits;
  sync_warp();
  const uint32_t v = g_shuffle_slots[i - lane + (lane ^ lane_mask)];
  sync_warp();
  return v;
}

void launch(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t s, std::function<void()> body) {
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (threads == 0 || threads > kMaxThreadsPerBlock || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.y > kMaxGridYZ || grid.z > kMaxGridYZ || shared_bytes > kMaxSharedBytes) {
    set_error(cudaErrorInvalidConfiguration);
    return;
  }
  if (g_capturing && s == g_capturing) {
    g_recording->push_back([=]() { run_grid(grid, block, shared_bytes, body); });
    return;
  }
  run_grid(grid, block, shared_bytes, body);
}

}  // namespace kkemu

// ---- runtime API: host memory stands in for device memory; streams are synchronous ----
using kkemu::g_capturing;
using kkemu::g_recording;

struct CUgraphExec_st { std::vector<std::function<void()>> ops; };

cudaError_t cudaGetLastError() {
  const cudaError_t e = kkemu::g_last_error;
  kkemu::g_last_error = cudaSuccess;
  return e;
}
const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
    default: return "cudaErrorUnknown(emulated)";
  }
}
const char* cudaGetErrorString(cudaError_t e) { return cudaGetErrorName(e); }
cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidValue; }
cudaError_t cudaGetDevice(int* d) { *d = 0; return cudaSuccess; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "CPU emulator (test_cuda_emu)");
  p->major = 9;
  p->multiProcessorCount = 1;
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* f, size_t* t) { *f = *t = size_t(1) << 32; return cudaSuccess; }
cudaError_t cudaMalloc(void** p, size_t n) {
  *p = std::aligned_alloc(256, (n + 255) / 256 * 256);
  if (*p) std::memset(*p, 0xff, n);  // device memory starts as garbage
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void* p) { std::free(p); return cudaSuccess; }
cudaError_t cudaMallocHost(void** p, size_t n) { return cudaMalloc(p, n); }
cudaError_t cudaFreeHost(void* p) { return cudaFree(p); }
cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind, cudaStream_t st) {
  if (g_capturing && st == g_capturing) { g_recording->push_back([=]() { std::memmove(d, s, n); }); return cudaSuccess; }
  std::memmove(d, s, n);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* d, int v, size_t n, cudaStream_t st) {
  if (g_capturing && st == g_capturing) { g_recording->push_back([=]() { std::memset(d, v, n); }); return cudaSuccess; }
  std::memset(d, v, n);
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  *s = reinterpret_cast<cudaStream_t>(new char(0));
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) { delete reinterpret_cast<char*>(s); return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t* e) { *e = reinterpret_cast<cudaEvent_t>(new char(0)); return cudaSuccess; }
cudaError_t cudaEventDestroy(cudaEvent_t e) { delete reinterpret_cast<char*>(e); return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t, cudaEvent_t) { *ms = 0; return cudaSuccess; }
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  if (g_capturing || !s) return cudaErrorStreamCaptureUnsupported;
  g_capturing = s;
  g_recording = new std::vector<std::function<void()>>();
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* g) {
  if (s != g_capturing) return cudaErrorInvalidValue;
  *g = reinterpret_cast<cudaGraph_t>(g_recording);
  g_capturing = nullptr;
  g_recording = nullptr;
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t g, unsigned long long) {
  auto* ops = reinterpret_cast<std::vector<std::function<void()>>*>(g);
  *exec = new CUgraphExec_st{*ops};
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t g) {
  delete reinterpret_cast<std::vector<std::function<void()>>*>(g);
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t) {
  for (auto& op : exec->ops) op();
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) { delete exec; return cudaSuccess; }

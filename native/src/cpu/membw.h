// membw.h — what this machine's memory can stream, and what the INT4 expert GEMV achieves.
// The bench prints both and their ratio (the target: GEMV >= 85 % of the read bandwidth).
#pragma once
#include <string>

#include "core/thread_pool.h"
#include "cpu/kernels.h"

namespace kk::cpu {

// Both measurements stream a buffer larger than the last-level cache several times and time
// each unit of one K2 expert's size (24.8 MB: gate+up+down) separately. The returned figure is
// the best unit over all passes: these cores are shared with other processes, and a unit
// (a few ms) often runs undisturbed where a whole pass (~0.1 s) never does. The best whole pass
// is reported too. Both use the same statistic, so their ratio is fair.
struct MembwDetail {
  double best_unit_gbps = 0;  // best expert-sized unit (the returned value)
  double best_pass_gbps = 0;  // best whole pass over the buffer
  std::string best_reader;    // read bandwidth only: which reader reached best_unit_gbps
};

// Streaming-read bandwidth in GB/s (1e9 bytes/s): every thread of `pool` sums its slice of each
// unit (widest SIMD loads this CPU has; with and without software prefetch, the better counts).
double measure_read_bandwidth_gbps(ThreadPool& pool, MembwDetail* detail = nullptr);

// Batch-1 INT4 expert GEMV in GB/s of block_q4 bytes read: K2-sized experts (gate and up
// 2048x7168, down 7168x2048), distinct experts so none is cached, through cpu::matmul on `pool`
// with kernels `k` (fast: int8 activations), the experts stored as block_q4 rows or (x16)
// repacked into block_q4x16 as the engine does at load (same bytes either way).
// n > 1: the same matrices against n activation rows at once (a batched decode step; each weight
// byte is still read once, so GB/s of weights is comparable with the read bandwidth).
double measure_q4_gemv_gbps(ThreadPool& pool, const Kernels& k, bool fast, bool x16,
                            MembwDetail* detail = nullptr, int64_t n = 1);

// Batch-1 bf16 GEMV (the dense attention / shared-expert weights of a decode step) in GB/s of
// bf16 bytes read, units of 1512 x 8192 (24.8 MB), same statistic as above.
double measure_bf16_gemv_gbps(ThreadPool& pool, const Kernels& k, MembwDetail* detail = nullptr, int64_t n = 1);

// The AVX-512 readers (membw_read_avx512.cpp): read `streams` (1, 2 or 4) 64-byte aligned
// regions of bytes_each bytes walked in step (paced: each load feeds two FMAs, as the bf16 GEMV
// does). Call only where cpu_features().avx512f.
uint64_t read_streams_avx512(const uint8_t* const* starts, size_t bytes_each, int streams, bool paced);

// Buffer size both measurements use, in bytes (env KK_MEMBW_MB overrides; default 1 GiB).
size_t membw_buffer_bytes();

}  // namespace kk::cpu

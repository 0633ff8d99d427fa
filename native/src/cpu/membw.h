// membw.h — what this machine's memory can stream, and what the INT4 expert GEMV achieves.
// The bench prints both and their ratio (the target: GEMV >= 85 % of the read bandwidth).
#pragma once
#include "core/thread_pool.h"
#include "cpu/kernels.h"

namespace kk::cpu {

// Streaming-read bandwidth in GB/s (1e9 bytes/s): every thread of `pool` sums its slice of a
// buffer several times larger than the last-level cache; best of several passes.
double measure_read_bandwidth_gbps(ThreadPool& pool);

// Batch-1 INT4 expert GEMV in GB/s of block_q4 bytes read: K2-sized experts (gate and up
// 2048x7168, down 7168x2048), many distinct experts so none stays cached, through cpu::matmul
// on `pool` with kernels `k` (fast: int8 activations). Best of several passes.
double measure_q4_gemv_gbps(ThreadPool& pool, const Kernels& k, bool fast);

// Buffer size both measurements use, in bytes (env KK_MEMBW_MB overrides; default 1 GiB).
size_t membw_buffer_bytes();

}  // namespace kk::cpu

// peak.h — what this machine's vector units can compute, measured in the same run as the
// figures compared with it (bench: every prefill GEMM as a fraction of the peak of the
// instruction its kernel is built on).
#pragma once
#include <string>

#include "core/thread_pool.h"

namespace kk::cpu {

// Throughput of one instruction kind on all threads of a pool, in GFLOP/s (1e9 arithmetic
// operations per second: a fused multiply-add counts 2, an int8 or bf16 pair product 2 per
// pair). Zero where the CPU lacks the instruction.
struct ComputePeak {
  double fma_f32_avx512 = 0;   // vfmadd231ps zmm   (32 flops)
  double fma_f32_avx2 = 0;     // vfmadd231ps ymm   (16 flops)
  double dpbf16_avx512 = 0;    // vdpbf16ps zmm     (64 flops)
  double dpbusd_avx512 = 0;    // vpdpbusd zmm      (128 int ops)
  // The best fp32 FMA figure: the peak an fp32-accumulating GEMM can reach.
  double fma_f32() const { return fma_f32_avx512 > fma_f32_avx2 ? fma_f32_avx512 : fma_f32_avx2; }
};

// Each thread of `pool` runs independent chains of the instruction (enough to cover its
// latency) for a few ms; best of a few rounds, summed over threads (the cores are shared).
ComputePeak measure_compute_peak(ThreadPool& pool);

// The per-ISA loops (peak_avx512.cpp, peak_avx2.cpp): `iters` steps of kPeakChains independent
// instructions; returns the instructions executed. Call only where cpu_features() has the ISA.
constexpr int kPeakChains = 12;
uint64_t peak_loop_fma_avx512(uint64_t iters);
uint64_t peak_loop_dpbf16_avx512(uint64_t iters);
uint64_t peak_loop_dpbusd_avx512(uint64_t iters);
uint64_t peak_loop_fma_avx2(uint64_t iters);

}  // namespace kk::cpu

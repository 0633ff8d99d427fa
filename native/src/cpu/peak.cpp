// peak.cpp — the compute-peak probe (peak.h): each instruction's loop on every pool thread at
// once, timed per round; the best round counts (other processes share these cores).
#include "cpu/peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "cpu/cpu_features.h"

namespace kk::cpu {
namespace {

constexpr uint64_t kPeakIters = 200000;  // x 12 chains: ~1-2 ms per thread and round at 4 GHz
constexpr int kPeakRounds = 5;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// GFLOP/s of `loop` on all threads: flops_per_instr x instructions / the slowest thread's time.
double measure(ThreadPool& pool, uint64_t (*loop)(uint64_t), double flops_per_instr) {
  const int nt = pool.size();
  double best = 0;
  for (int round = 0; round < kPeakRounds; ++round) {
    std::atomic<uint64_t> instrs{0};
    const double t0 = now_s();
    pool.parallel_for(nt, 1, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) instrs += loop(kPeakIters);
    });
    const double dt = now_s() - t0;
    best = std::max(best, double(instrs.load()) * flops_per_instr / dt / 1e9);
  }
  return best;
}

}  // namespace

ComputePeak measure_compute_peak(ThreadPool& pool) {
  const CpuFeatures& f = cpu_features();
  ComputePeak p;
  const bool avx512 = f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.fma;
  if (f.avx2 && f.fma) p.fma_f32_avx2 = measure(pool, peak_loop_fma_avx2, 16);
  if (avx512) p.fma_f32_avx512 = measure(pool, peak_loop_fma_avx512, 32);
  if (avx512 && f.avx512_bf16) p.dpbf16_avx512 = measure(pool, peak_loop_dpbf16_avx512, 64);
  if (avx512 && f.avx512_vnni) p.dpbusd_avx512 = measure(pool, peak_loop_dpbusd_avx512, 128);
  return p;
}

}  // namespace kk::cpu

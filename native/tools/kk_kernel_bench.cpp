// kk_kernel_bench — streaming-read bandwidth vs the batch-1 INT4 expert GEMV (exact and fast; in
// the layout the engine uses — block_q4x16 where the kernels prefer it — and in block_q4 rows as
// `rows_*`) and the bf16 GEMV, as JSON, for 1 and 2 threads (or the counts given as arguments), with the best
// kernel variant (KK_CPU_KERNELS overrides). The measurements alternate for kRounds rounds and
// each keeps its best, so noisy neighbours on shared cores hit them all alike.
// Usage: kk_kernel_bench [threads...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/membw.h"

namespace {
constexpr int kRounds = 3;

void keep_best(kk::cpu::MembwDetail& best, const kk::cpu::MembwDetail& d) {
  if (d.best_unit_gbps > best.best_unit_gbps) best.best_reader = d.best_reader;
  best.best_unit_gbps = std::max(best.best_unit_gbps, d.best_unit_gbps);
  best.best_pass_gbps = std::max(best.best_pass_gbps, d.best_pass_gbps);
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i) counts.push_back(std::atoi(argv[i]));
  if (counts.empty()) counts = {1, 2};
  const kk::cpu::Kernels& k = kk::cpu::kernels_best();
  std::printf("{\"cpu\": \"%s\", \"kernels\": \"%s\", \"buffer_mib\": %zu, \"rounds\": %d, \"runs\": [",
              kk::cpu::cpu_features().describe().c_str(), k.name, kk::cpu::membw_buffer_bytes() >> 20, kRounds);
  for (size_t i = 0; i < counts.size(); ++i) {
    kk::ThreadPool pool(counts[i]);
    kk::cpu::MembwDetail rd, ex, fa, bf, rex, rfa;
    const bool x16 = k.q4x16_native;
    for (int round = 0; round < kRounds; ++round) {
      kk::cpu::MembwDetail d;
      kk::cpu::measure_read_bandwidth_gbps(pool, &d); keep_best(rd, d);
      kk::cpu::measure_q4_gemv_gbps(pool, k, false, x16, &d); keep_best(ex, d);
      kk::cpu::measure_q4_gemv_gbps(pool, k, true, x16, &d); keep_best(fa, d);
      if (x16) {
        kk::cpu::measure_q4_gemv_gbps(pool, k, false, false, &d); keep_best(rex, d);
        kk::cpu::measure_q4_gemv_gbps(pool, k, true, false, &d); keep_best(rfa, d);
      }
      kk::cpu::measure_bf16_gemv_gbps(pool, k, &d); keep_best(bf, d);
    }
    const double mem = rd.best_unit_gbps;
    // Cost of one empty parallel_for (decode issues hundreds per token): best of 20 x 2000 calls.
    double pf_us = 1e9;
    for (int rep = 0; rep < 20; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int c = 0; c < 2000; ++c) pool.parallel_for(int64_t(counts[i]) * 4, 1, [](int64_t, int64_t, int) {});
      pf_us = std::min(pf_us, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 2000);
    }
    std::printf("%s\n  {\"threads\": %d, \"q4_layout\": \"%s\", \"parallel_for_us\": %.2f, \"mem_read_gbps\": %.2f, \"mem_read_best_reader\": \"%s\", \"expert_gemv_gbps\": %.2f, "
                "\"expert_gemv_efficiency\": %.3f, \"expert_gemv_fast_gbps\": %.2f, "
                "\"expert_gemv_fast_efficiency\": %.3f, \"bf16_gemv_gbps\": %.2f, \"bf16_gemv_efficiency\": %.3f, "
                "\"whole_pass\": {\"mem_read_gbps\": %.2f, \"expert_gemv_gbps\": %.2f, "
                "\"expert_gemv_fast_gbps\": %.2f, \"bf16_gemv_gbps\": %.2f}, "
                "\"rows_expert_gemv_efficiency\": %.3f, \"rows_expert_gemv_fast_efficiency\": %.3f}",
                i ? "," : "", counts[i], x16 ? "x16" : "rows", pf_us, mem, rd.best_reader.c_str(), ex.best_unit_gbps, ex.best_unit_gbps / mem,
                fa.best_unit_gbps, fa.best_unit_gbps / mem, bf.best_unit_gbps, bf.best_unit_gbps / mem,
                rd.best_pass_gbps, ex.best_pass_gbps, fa.best_pass_gbps, bf.best_pass_gbps,
                (x16 ? rex : ex).best_unit_gbps / mem, (x16 ? rfa : fa).best_unit_gbps / mem);
    std::fflush(stdout);
  }
  std::printf("\n]}\n");
  return 0;
}

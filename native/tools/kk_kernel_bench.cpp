// kk_kernel_bench — streaming-read bandwidth vs INT4 expert GEMV (batch 1), as JSON, for 1 and 2
// threads (or the counts given as arguments), with the best kernel variant (KK_CPU_KERNELS
// overrides). Usage: kk_kernel_bench [threads...]
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/membw.h"

int main(int argc, char** argv) {
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i) counts.push_back(std::atoi(argv[i]));
  if (counts.empty()) counts = {1, 2};
  const kk::cpu::Kernels& k = kk::cpu::kernels_best();
  std::printf("{\"cpu\": \"%s\", \"kernels\": \"%s\", \"buffer_mib\": %zu, \"runs\": [",
              kk::cpu::cpu_features().describe().c_str(), k.name, kk::cpu::membw_buffer_bytes() >> 20);
  for (size_t i = 0; i < counts.size(); ++i) {
    kk::ThreadPool pool(counts[i]);
    kk::cpu::MembwDetail rd, ex, fa, rd2, bf;
    kk::cpu::measure_read_bandwidth_gbps(pool, &rd);
    kk::cpu::measure_q4_gemv_gbps(pool, k, false, &ex);
    kk::cpu::measure_q4_gemv_gbps(pool, k, true, &fa);
    kk::cpu::measure_bf16_gemv_gbps(pool, k, &bf);
    kk::cpu::measure_read_bandwidth_gbps(pool, &rd2);  // again after: noisy neighbours
    const double mem = std::max(rd.best_unit_gbps, rd2.best_unit_gbps);
    const double mem_pass = std::max(rd.best_pass_gbps, rd2.best_pass_gbps);
    std::printf("%s\n  {\"threads\": %d, \"mem_read_gbps\": %.2f, \"expert_gemv_gbps\": %.2f, "
                "\"expert_gemv_efficiency\": %.3f, \"expert_gemv_fast_gbps\": %.2f, "
                "\"expert_gemv_fast_efficiency\": %.3f, \"bf16_gemv_gbps\": %.2f, \"bf16_gemv_efficiency\": %.3f, \"whole_pass\": {\"mem_read_gbps\": %.2f, "
                "\"expert_gemv_gbps\": %.2f, \"expert_gemv_fast_gbps\": %.2f}}",
                i ? "," : "", counts[i], mem, ex.best_unit_gbps, ex.best_unit_gbps / mem,
                fa.best_unit_gbps, fa.best_unit_gbps / mem, bf.best_unit_gbps, bf.best_unit_gbps / mem, mem_pass, ex.best_pass_gbps, fa.best_pass_gbps);
    std::fflush(stdout);
  }
  std::printf("\n]}\n");
  return 0;
}

// kk_kernel_bench — streaming-read bandwidth vs INT4 expert GEMV (batch 1), as JSON, for 1 and 2
// threads (or the counts given as arguments), with the best kernel variant (KK_CPU_KERNELS
// overrides). Usage: kk_kernel_bench [threads...]
#include <cstdio>
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
    const double bw = kk::cpu::measure_read_bandwidth_gbps(pool);
    const double exact = kk::cpu::measure_q4_gemv_gbps(pool, k, false);
    const double fast = kk::cpu::measure_q4_gemv_gbps(pool, k, true);
    const double bw2 = kk::cpu::measure_read_bandwidth_gbps(pool);  // again, after: noisy neighbours
    const double mem = bw > bw2 ? bw : bw2;
    std::printf("%s\n  {\"threads\": %d, \"mem_read_gbps\": %.2f, \"expert_gemv_gbps\": %.2f, "
                "\"expert_gemv_efficiency\": %.3f, \"expert_gemv_fast_gbps\": %.2f, "
                "\"expert_gemv_fast_efficiency\": %.3f}",
                i ? "," : "", counts[i], mem, exact, exact / mem, fast, fast / mem);
    std::fflush(stdout);
  }
  std::printf("\n]}\n");
  return 0;
}

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
#include "kk_blocks.h"
#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/membw.h"
#include "cpu/peak.h"

namespace {
constexpr int kRounds = 3;

// Prefill-sized dense GEMM: bf16 weights kGemmRows x kGemmCols (a K2 shared-expert pair's shape)
// against kGemmTokens tokens through the variant's bf16_f32 (and bf16_fast where it has one),
// rows split across the pool as matmul does; GFLOP/s (2 flops per multiply-add), best of 3.
constexpr int64_t kGemmRows = 4096, kGemmCols = 7168, kGemmTokens = 512;
double dense_gemm_gflops(kk::ThreadPool& pool, const kk::cpu::Kernels& k, bool fast) {
  std::vector<uint16_t> w(kGemmRows * kGemmCols);
  std::vector<float> x(kGemmTokens * kGemmCols), y(kGemmTokens * kGemmRows);
  uint32_t s = 1;
  for (auto& v : w) { s = s * 1664525u + 1013904223u; v = uint16_t(0x3c00 + ((s >> 16) & 0x3ff)); }
  for (auto& v : x) { s = s * 1664525u + 1013904223u; v = float(int(s >> 20) - 2048) / 2048.f; }
  auto fn = fast && k.bf16_fast ? k.bf16_fast : k.bf16_f32;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(kGemmRows, 16, [&](int64_t r0, int64_t r1, int) {
      fn(w.data(), kGemmCols, r0, r1, x.data(), kGemmCols, kGemmTokens, y.data(), kGemmRows);
    });
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * kGemmRows * kGemmCols * kGemmTokens / dt / 1e9);
  }
  return best;
}

// Prefill-sized INT4 expert GEMM: one K2 gate matrix (2048 x 7168, block_q4x16 where the variant
// repacks) against kExpertTokens tokens (512 prompt tokens x 8 slots / 384 experts), through
// q4x16_q8 (fast) or q4x16_f32 (exact); GOP/s (2 per multiply-add), best of 5.
constexpr int64_t kExpertRows = 2048, kExpertCols = 7168, kExpertTokens = 11;
constexpr int64_t kExpertCopies = 32;  // distinct matrices walked in turn (264 MB: not cached)
double expert_gemm_gops(kk::ThreadPool& pool, const kk::cpu::Kernels& k, bool fast) {
  const int64_t nb = kExpertCols / KK_Q4_GROUP, groups = kExpertRows / KK_Q4X16_ROWS;
  std::vector<block_q4x16> w(kExpertCopies * groups * nb);
  uint32_t s = 7;
  for (auto& b : w) {
    for (auto& q : b.qs) { s = s * 1664525u + 1013904223u; q = uint8_t(s >> 24); }
    for (auto& sc : b.scale_bf16) sc = 0x3c00;
  }
  std::vector<float> x(kExpertTokens * kExpertCols), y(kExpertTokens * kExpertRows);
  for (auto& v : x) { s = s * 1664525u + 1013904223u; v = float(int(s >> 20) - 2048) / 2048.f; }
  std::vector<block_q8> xq(kExpertTokens * nb);
  for (int64_t t = 0; t < kExpertTokens; ++t) k.quantize_q8(&x[t * kExpertCols], kExpertCols, &xq[t * nb]);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t e = 0; e < kExpertCopies; ++e) {
      const block_q4x16* we = w.data() + e * groups * nb;
      pool.parallel_for(groups, 1, [&](int64_t g0, int64_t g1, int) {
        if (fast) k.q4x16_q8(we, kExpertCols, g0, g1, xq.data(), kExpertTokens, y.data(), kExpertRows);
        else k.q4x16_f32(we, kExpertCols, g0, g1, x.data(), kExpertCols, kExpertTokens, y.data(), kExpertRows);
      });
    }
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * kExpertCopies * kExpertRows * kExpertCols * kExpertTokens / dt / 1e9);
  }
  return best;
}

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
    // KK_KERNEL_BENCH_COMPUTE=1: only the compute figures (peak, GEMMs), no bandwidth rounds.
    const bool compute_only = std::getenv("KK_KERNEL_BENCH_COMPUTE") != nullptr;
    const bool small_only = std::getenv("KK_KERNEL_BENCH_SMALL") != nullptr;
    for (int round = 0; round < (compute_only || small_only ? 0 : kRounds); ++round) {
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
    // KK_KERNEL_BENCH_SMALL=1: batched decode, the read bandwidth against the bf16 and INT4
    // GEMVs over 1-16 activation rows (each weight byte read once however many rows), in
    // alternating rounds; nothing else.
    if (small_only) {
      const int64_t ns[] = {1, 2, 4, 8, 16};
      constexpr int kNs = int(sizeof(ns) / sizeof(ns[0]));
      kk::cpu::MembwDetail srd, sbf[kNs], sex[kNs], sfa[kNs];
      for (int round = 0; round < kRounds; ++round) {
        kk::cpu::MembwDetail d;
        kk::cpu::measure_read_bandwidth_gbps(pool, &d); keep_best(srd, d);
        for (int j = 0; j < kNs; ++j) {
          kk::cpu::measure_bf16_gemv_gbps(pool, k, &d, ns[j]); keep_best(sbf[j], d);
          if (ns[j] > 8) continue;  // the INT4 small-batch path ends at 8 tokens
          kk::cpu::measure_q4_gemv_gbps(pool, k, false, x16, &d, ns[j]); keep_best(sex[j], d);
          kk::cpu::measure_q4_gemv_gbps(pool, k, true, x16, &d, ns[j]); keep_best(sfa[j], d);
        }
      }
      const double m = srd.best_unit_gbps;
      std::printf("%s\n  {\"threads\": %d, \"mem_read_gbps\": %.2f, \"small_batch\": [", i ? "," : "", counts[i], m);
      for (int j = 0; j < kNs; ++j)
        std::printf("%s{\"tokens\": %lld, \"bf16_gbps\": %.2f, \"bf16_efficiency\": %.3f, \"q4_exact_efficiency\": %.3f, "
                    "\"q4_fast_efficiency\": %.3f}", j ? ", " : "", (long long)ns[j], sbf[j].best_unit_gbps,
                    sbf[j].best_unit_gbps / m, sex[j].best_unit_gbps / m, sfa[j].best_unit_gbps / m);
      std::printf("]}");
      std::fflush(stdout);
      continue;
    }
    const kk::cpu::ComputePeak peak = kk::cpu::measure_compute_peak(pool);
    const double gemm_exact = dense_gemm_gflops(pool, k, false), gemm_fast = dense_gemm_gflops(pool, k, true);
    const double egemm_exact = expert_gemm_gops(pool, k, false), egemm_fast = expert_gemm_gops(pool, k, true);
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
                "\"rows_expert_gemv_efficiency\": %.3f, \"rows_expert_gemv_fast_efficiency\": %.3f, "
                "\"peak_gflops\": {\"fma_f32_avx512\": %.1f, \"fma_f32_avx2\": %.1f, \"dpbf16_avx512\": %.1f, \"dpbusd_avx512\": %.1f}, "
                "\"bf16_gemm_512_gflops\": {\"exact\": %.1f, \"fast\": %.1f, \"fraction_of_fma_peak\": %.3f}, "
                "\"q4x16_gemm_11_gops\": {\"exact\": %.1f, \"fast\": %.1f}}",
                i ? "," : "", counts[i], x16 ? "x16" : "rows", pf_us, mem, rd.best_reader.c_str(), ex.best_unit_gbps, ex.best_unit_gbps / mem,
                fa.best_unit_gbps, fa.best_unit_gbps / mem, bf.best_unit_gbps, bf.best_unit_gbps / mem,
                rd.best_pass_gbps, ex.best_pass_gbps, fa.best_pass_gbps, bf.best_pass_gbps,
                (x16 ? rex : ex).best_unit_gbps / mem, (x16 ? rfa : fa).best_unit_gbps / mem,
                peak.fma_f32_avx512, peak.fma_f32_avx2, peak.dpbf16_avx512, peak.dpbusd_avx512,
                gemm_exact, gemm_fast, std::max(gemm_exact, gemm_fast) / peak.fma_f32(), egemm_exact, egemm_fast);
    std::fflush(stdout);
  }
  std::printf("\n]}\n");
  return 0;
}

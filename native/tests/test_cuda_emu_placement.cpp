// test_cuda_emu_placement.cpp — the hot set at load on the emulated plugin: with no saved routing
// statistics the expert slots are spread over tiny-k2's 3 MoE layers (not the first layer's
// experts); the statistics are written next to the model (LoadOptions::routing_stats_dir) when the
// engine is unloaded; the next load reads that file and puts the experts this prompt used on the
// GPU, so more of the same prompt's (token, expert) pairs run there — logits exact both times.
#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <unistd.h>

#include "backend_cuda/backend_cuda.h"
#include "karakoram/backends.h"
#include "tiny_k2_forward.h"

using namespace tiny_k2_forward;

namespace {
constexpr int kSlots = 12;                                     // of 3 x 16 experts
constexpr long long kExpertBytes = 3LL * 64 * 256 / 32 * 18;  // tiny-k2: moe_intermediate 64, hidden 256

int stats_files(const std::string& dir) {
  int n = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) n += std::string(e->d_name).rfind("routing-stats-", 0) == 0;
    closedir(d);
  }
  return n;
}
}  // namespace

int main() {
  if (!have_tiny_k2()) { std::printf("skip: no %s\n", tiny_k2_dir().c_str()); return KK_TEST_SKIP; }
  // The emulated plugin, unless KK_CUDA_PLUGIN names another (docs/cuda.md's GPU command runs these
  // same checks on a device with the real libkk_cuda.so).
  setenv("KK_CUDA_PLUGIN", KK_CUDA_EMU_PLUGIN, 0);
  char tmpl[] = "/tmp/kk-stats-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  CHECK(dir != nullptr, "mkdtemp");
  if (!dir) return kk_test::finish("test_cuda_emu_placement");
  Reference ref;
  const kk::Status st = load_reference(&ref);
  CHECK(st.ok(), "reference: %s", st.message().c_str());
  if (!st.ok()) return kk_test::finish("test_cuda_emu_placement");

  // First load: no statistics file, the hot set is spread evenly.
  long long flat_gpu = 0, flat_cpu = 0;
  {
    auto e = load_cuda_engine(kSlots * kExpertBytes, dir);
    if (!e) return kk_test::finish("test_cuda_emu_placement");
    const kk::CudaBackendCounts c0 = kk::cuda_backend_counts();
    kk::SeqId s = -1;
    const double err = prefill(*e, ref, &s);
    CHECK(err <= kExactLogitTol, "prefill (even spread) max |logit err| %.3g", err);
    const kk::CudaBackendCounts c = kk::cuda_backend_counts();
    CHECK(c.routing_stats_loaded == c0.routing_stats_loaded, "statistics loaded with no file");
    CHECK(c.expert_slots == kSlots && c.expert_uploads - c0.expert_uploads == kSlots, "slots %lld, uploads %lld",
          (long long)c.expert_slots, (long long)(c.expert_uploads - c0.expert_uploads));
    flat_gpu = c.moe_gpu_pairs - c0.moe_gpu_pairs;
    flat_cpu = c.moe_cpu_pairs - c0.moe_cpu_pairs;
    std::printf("even spread: err %.3g, MoE pairs on the GPU %lld, on the CPU %lld\n", err, flat_gpu, flat_cpu);
    e->free_sequence(s);
    CHECK(stats_files(dir) == 0, "statistics written before unload");
  }
  CHECK(stats_files(dir) == 1, "unload wrote %d statistics files to %s (want 1)", stats_files(dir), dir);

  // Second load: the saved statistics choose the hot set.
  {
    const kk::CudaBackendCounts c0 = kk::cuda_backend_counts();
    auto e = load_cuda_engine(kSlots * kExpertBytes, dir);
    if (!e) return kk_test::finish("test_cuda_emu_placement");
    kk::SeqId s = -1;
    const double err = prefill(*e, ref, &s);
    CHECK(err <= kExactLogitTol, "prefill (saved statistics) max |logit err| %.3g", err);
    const kk::CudaBackendCounts c = kk::cuda_backend_counts();
    CHECK(c.routing_stats_loaded == c0.routing_stats_loaded + 1, "the saved statistics were not read");
    const long long gpu = c.moe_gpu_pairs - c0.moe_gpu_pairs, cpu = c.moe_cpu_pairs - c0.moe_cpu_pairs;
    CHECK(gpu + cpu == flat_gpu + flat_cpu, "pairs %lld vs %lld", gpu + cpu, flat_gpu + flat_cpu);
    CHECK(gpu > flat_gpu, "hot set from statistics: %lld pairs on the GPU, even spread %lld", gpu, flat_gpu);
    std::printf("from saved statistics: err %.3g, MoE pairs on the GPU %lld, on the CPU %lld\n", err, gpu, cpu);
    // The heat map (karakoram/backends.h): 3 MoE layers x 16 experts, 12 resident, and those are
    // the most used (every layer sees the same number of routing decisions per token).
    const kk::ExpertHeat h = kk::expert_heat();
    CHECK(h.n_layers == 3 && h.n_experts == 16 && h.counts.size() == 48 && h.on_gpu.size() == 48, "heat %dx%d",
          h.n_layers, h.n_experts);
    int resident = 0;
    double min_hot = 1e300, max_cold = 0;
    for (size_t i = 0; i < h.counts.size() && i < h.on_gpu.size(); ++i) {
      resident += h.on_gpu[i];
      if (h.on_gpu[i]) min_hot = std::min(min_hot, h.counts[i]);
      else max_cold = std::max(max_cold, h.counts[i]);
    }
    CHECK(resident == kSlots, "heat map: %d resident experts", resident);
    CHECK(min_hot >= max_cold && max_cold >= 0, "resident counts from %.3g, non-resident up to %.3g", min_hot, max_cold);
    std::printf("heat map: %dx%d, %d on the GPU, least used resident %.3g >= most used cold %.3g\n", h.n_layers,
                h.n_experts, resident, min_hot, max_cold);
    e->free_sequence(s);
  }
  // Clean up the temporary folder.
  if (DIR* d = opendir(dir)) {
    while (dirent* f = readdir(d))
      if (f->d_name[0] != '.') unlink((std::string(dir) + "/" + f->d_name).c_str());
    closedir(d);
  }
  rmdir(dir);
  return kk_test::finish("test_cuda_emu_placement");
}

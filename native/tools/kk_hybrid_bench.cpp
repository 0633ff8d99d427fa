// kk_hybrid_bench — the hybrid CPU+GPU MoE step at Kimi K2's real size (issue: CUDA backend).
//
// Builds K2-dimension MoE layers in pinned host RAM (384 INT4 experts of 2048 x 7168, top 8,
// shared expert bf16), routes tokens with a Zipf skew (or flat), and measures, in one run:
//   * bandwidths: CPU streaming read, GPU HBM (device copy), PCIe (pinned host -> device);
//   * decode: time per MoE layer with 0/10/25/50 % of expert traffic on the GPU (placement policy
//     picks the hot set from routing statistics; the GPU computes shared + hot experts while the
//     CPU threads compute the cold ones; results summed on the GPU), next to the bound
//     max(cold bytes / CPU read bw, hot+shared bytes / HBM bw) of the same step;
//   * long prefill: cold experts streamed to the GPU layer by layer, double-buffered over PCIe,
//     next to the PCIe bound, extrapolated to K2's 60 MoE layers.
// Writes a JSON report, a CSV and a PNG plot (time per layer vs GPU share) to --out.
// Without a CUDA device it says why and exits 77 (nothing to measure).
//
//   kk_hybrid_bench [--layers N] [--threads T] [--batch B] [--steps S] [--skew Z] [--shares 0,10,25,50]
//                   [--prefill 2048,8192] [--out DIR] [--bw-mb 2048] [--dims hidden,inter,experts,top_k]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_cuda/plugin_loader.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "cpu/kernels.h"
#include "cpu/membw.h"
#include "cpu/ops.h"
#include "placement/placement.h"
#include "placement/routing_stats.h"

namespace {

// Kimi K2's MoE dimensions (shared/specs/kimi-format-facts.md); --dims overrides them for a smoke
// run of the tool itself (e.g. on the emulated plugin), never for reported numbers.
struct Dims {
  int hidden = 7168, inter = 2048, experts = 384, top_k = 8;
  size_t proj_blocks() const { return size_t(inter) * hidden / KK_Q4_GROUP; }          // one projection
  size_t expert_bytes() const { return 3 * proj_blocks() * sizeof(block_q4); }        // gate + up + down
  size_t shared_bytes() const { return 3 * size_t(inter) * hidden * sizeof(uint16_t); } // bf16 shared expert
};
Dims dims;
constexpr int kMoeLayersK2 = 60;
// Experts per PCIe staging buffer in streamed prefill (2 buffers): ~400 MB each, large enough
// for full-speed copies, small enough that compute starts early.
constexpr int kStreamChunk = 16;
// Host RAM the layers may take, as a share of physical memory (the rest: OS, activations).
constexpr double kMaxRamShare = 0.6;

const kk_cuda_plugin* api = nullptr;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#define CU(call)                                                                      \
  do {                                                                                \
    if ((call) != 0) {                                                                \
      std::fprintf(stderr, "kk_hybrid_bench: %s failed: %s\n", #call, api->last_error()); \
      std::exit(1);                                                                   \
    }                                                                                 \
  } while (0)

void* dev_alloc_or_die(size_t n) {
  void* p = api->dev_alloc(n);
  if (!p) { std::fprintf(stderr, "kk_hybrid_bench: device alloc of %zu MB failed: %s\n", n >> 20, api->last_error()); std::exit(1); }
  return p;
}
void* pinned_or_die(size_t n) {
  void* p = api->host_alloc_pinned(n);
  if (!p) { std::fprintf(stderr, "kk_hybrid_bench: pinned alloc of %zu MB failed: %s\n", n >> 20, api->last_error()); std::exit(1); }
  return p;
}

struct Options {
  int layers = 2, threads = 0, batch = 1, steps = 30;
  double skew = 1.0;
  std::vector<int> shares = {0, 10, 25, 50};
  std::vector<int> prefill = {2048, 8192};
  std::string out = "hybrid-bench";
  size_t bw_bytes = size_t(2) << 30;  // device and PCIe bandwidth buffers
};

std::vector<int> parse_list(const char* s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) if (!item.empty()) v.push_back(std::atoi(item.c_str()));
  return v;
}

// One MoE layer in pinned host memory: experts stacked per projection (cpu::moe's layout).
struct Layer {
  block_q4 *gate, *up, *down;
  kk::Tensor tg, tu, td;
};

void fill_random_q4(kk::ThreadPool& pool, block_q4* b, size_t n, uint64_t seed) {
  pool.parallel_for(int64_t(n), 1 << 16, [&](int64_t i0, int64_t i1, int) {
    uint64_t s = seed ^ (uint64_t(i0) * 0x9E3779B97F4A7C15ull);
    for (int64_t i = i0; i < i1; ++i) {
      for (int j = 0; j < KK_Q4_GROUP / 2; j += 8) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        std::memcpy(b[i].qs + j, &s, 8);
      }
      b[i].scale_bf16 = kk::f32_to_bf16(0.004f + float(s % 1000) * 1e-5f);
    }
  });
}

kk::Tensor stacked(block_q4* data, int rows, int cols, const char* name) {
  kk::Tensor t;
  t.name = name;
  t.type = kk::DType::Q4;
  t.shape = {dims.experts, rows, cols};
  t.data = data;
  return t;
}

// Expert popularity: Zipf(skew) over a per-layer random permutation (skew 0: flat).
struct Routing {
  std::vector<std::vector<double>> p;  // [layer][expert]
  std::vector<std::discrete_distribution<int>> pick;
  Routing(int layers, double skew, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int l = 0; l < layers; ++l) {
      std::vector<int> perm(dims.experts);
      for (int e = 0; e < dims.experts; ++e) perm[e] = e;
      std::shuffle(perm.begin(), perm.end(), rng);
      std::vector<double> w(dims.experts);
      for (int r = 0; r < dims.experts; ++r) w[perm[r]] = 1.0 / std::pow(r + 1.0, skew);
      pick.emplace_back(w.begin(), w.end());
      double sum = 0;
      for (double x : w) sum += x;
      for (double& x : w) x /= sum;
      p.push_back(w);
    }
  }
  // Top-k distinct experts per token, drawn by popularity.
  void draw(int layer, int n_tokens, std::mt19937_64& rng, int32_t* ids) {
    for (int t = 0; t < n_tokens; ++t)
      for (int k = 0; k < dims.top_k;) {
        const int e = pick[layer](rng);
        bool dup = false;
        for (int j = 0; j < k; ++j) dup |= ids[t * dims.top_k + j] == e;
        if (!dup) ids[t * dims.top_k + k++] = e;
      }
  }
};

struct Bandwidths { double cpu_read, cpu_q4_gemv, hbm_copy, gpu_q4_gemv, pcie_h2d; };

Bandwidths measure_bandwidths(kk::ThreadPool& pool, size_t n) {
  Bandwidths b;
  b.cpu_read = kk::cpu::measure_read_bandwidth_gbps(pool);
  b.cpu_q4_gemv = kk::cpu::measure_q4_gemv_gbps(pool, kk::cpu::kernels_best(), false, false);
  void* d0 = dev_alloc_or_die(n);
  void* d1 = dev_alloc_or_die(n);
  void* h = pinned_or_die(n);
  std::memset(h, 1, n);
  auto best = [&](auto fn, size_t bytes) {
    double t = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
      CU(api->stream_sync(nullptr));
      const double t0 = now_s();
      fn();
      CU(api->stream_sync(nullptr));
      t = std::min(t, now_s() - t0);
    }
    return double(bytes) / t / 1e9;
  };
  b.pcie_h2d = best([&] { CU(api->memcpy_h2d(d0, h, n, nullptr)); }, n);
  b.hbm_copy = best([&] { CU(api->memcpy_d2d(d1, d0, n, nullptr)); }, 2 * n);  // read + write
  // INT4 GEMV of 1.5 GB of blocks: what the expert kernel streams from HBM at batch 1.
  const int rows = int(n * 3 / 4 / (size_t(dims.hidden) / KK_Q4_GROUP * sizeof(block_q4)));
  fill_random_q4(pool, static_cast<block_q4*>(h), size_t(rows) * dims.hidden / KK_Q4_GROUP, 7);
  CU(api->memcpy_h2d(d0, h, size_t(rows) * dims.hidden / KK_Q4_GROUP * sizeof(block_q4), nullptr));
  CU(api->memset_d(d1, 0, size_t(dims.hidden) * 4 + size_t(rows) * 4, nullptr));
  kk_matmul_args a{rows, dims.hidden, 1};
  float* x = static_cast<float*>(d1);
  float* y = x + dims.hidden;
  b.gpu_q4_gemv = best([&] { CU(api->matmul_q4(&a, static_cast<block_q4*>(d0), x, y, nullptr)); },
                       size_t(rows) * dims.hidden / KK_Q4_GROUP * sizeof(block_q4));
  api->dev_free(d0);
  api->dev_free(d1);
  api->host_free_pinned(h);
  return b;
}

struct DecodeRow {
  double skew;
  int share_target;
  double share_planned, share_measured;
  int hot_experts;  // on the GPU, all layers
  double ms_layer, ms_bound, ms_gpu_only, ms_cpu_only;
};

// GPU side of one layer for decode: shared expert (bf16) and the hot experts in slots.
struct GpuLayer {
  block_q4 *gate = nullptr, *up = nullptr, *down = nullptr;  // [hot][...]
  int32_t* slot_of = nullptr;                                // [E]
  std::vector<uint8_t> cold_mask;                            // host: 1 = CPU computes it
  int hot = 0;
};

std::vector<DecodeRow> bench_decode(const Options& o, kk::ThreadPool& pool, std::vector<Layer>& layers,
                                    Routing& routing, const Bandwidths& bw, double skew) {
  std::vector<DecodeRow> rows;
  const int L = int(layers.size()), B = o.batch;
  // Routing statistics as the engine would have collected them, then the placement policy.
  kk::placement::RoutingStats stats(L, dims.experts);
  std::mt19937_64 rng(11);
  std::vector<int32_t> ids(size_t(4096) * dims.top_k);
  for (int l = 0; l < L; ++l) {
    routing.draw(l, 4096, rng, ids.data());
    stats.record(l, ids.data(), 4096, dims.top_k);
  }
  kk::placement::ModelSizes sizes;
  sizes.n_experts = dims.experts;
  sizes.expert_bytes.assign(L, int64_t(dims.expert_bytes()));

  // Shared expert and GPU activations (same for every layer: its bytes still stream each step).
  uint16_t* shared = static_cast<uint16_t*>(dev_alloc_or_die(dims.shared_bytes()));
  CU(api->memset_d(shared, 0x3c, dims.shared_bytes(), nullptr));
  float* d_x = static_cast<float*>(dev_alloc_or_die(sizeof(float) * B * dims.hidden));
  float* d_y = static_cast<float*>(dev_alloc_or_die(sizeof(float) * B * dims.hidden));
  float* d_ycpu = static_cast<float*>(dev_alloc_or_die(sizeof(float) * B * dims.hidden));
  float* d_g = static_cast<float*>(dev_alloc_or_die(sizeof(float) * B * dims.inter * 2));
  float* d_u = d_g + B * dims.inter;
  int32_t* d_ids = static_cast<int32_t*>(dev_alloc_or_die(sizeof(int32_t) * B * dims.top_k));
  float* d_w = static_cast<float*>(dev_alloc_or_die(sizeof(float) * B * dims.top_k));
  float* h_x = static_cast<float*>(pinned_or_die(sizeof(float) * B * dims.hidden));
  float* h_y = static_cast<float*>(pinned_or_die(sizeof(float) * B * dims.hidden));
  std::vector<float> xs(size_t(B) * dims.hidden), w(size_t(B) * dims.top_k, 2.827f / dims.top_k);
  std::normal_distribution<float> nd(0.f, 1.f);
  for (auto& v : xs) v = nd(rng);
  CU(api->memcpy_h2d(d_x, xs.data(), xs.size() * 4, nullptr));
  CU(api->memcpy_h2d(d_w, w.data(), w.size() * 4, nullptr));
  kk_moe_args ma{B, dims.top_k, dims.hidden, dims.inter, dims.experts, 1};
  void* ws = dev_alloc_or_die(api->moe_workspace_bytes(&ma));
  kk_cuda_stream s = api->stream_create(), xstream = api->stream_create();
  kk_cuda_event x_ready = api->event_create();
  kk::cpu::OpContext cctx;
  cctx.pool = &pool;

  for (int target : o.shares) {
    // Smallest expert count whose planned traffic share reaches the target.
    kk::placement::Plan plan;
    for (int k = 0; k <= L * dims.experts; k += std::max(1, L / 2)) {
      kk::placement::plan_placement(sizes, int64_t(k) * int64_t(dims.expert_bytes()), stats, {}, &plan);
      if (plan.gpu_traffic_share * 100 >= target) break;
    }
    std::vector<GpuLayer> gl(L);
    for (int l = 0; l < L; ++l) {
      GpuLayer& g = gl[l];
      g.hot = plan.count_layer(l);
      g.cold_mask.assign(dims.experts, 1);
      std::vector<int32_t> slot(dims.experts, -1);
      if (g.hot) {
        g.gate = static_cast<block_q4*>(dev_alloc_or_die(dims.proj_blocks() * sizeof(block_q4) * g.hot));
        g.up = static_cast<block_q4*>(dev_alloc_or_die(dims.proj_blocks() * sizeof(block_q4) * g.hot));
        g.down = static_cast<block_q4*>(dev_alloc_or_die(dims.proj_blocks() * sizeof(block_q4) * g.hot));
      }
      int next = 0;
      for (int e = 0; e < dims.experts; ++e) {
        if (!plan.resident(l, e)) continue;
        g.cold_mask[e] = 0;
        const size_t pb = dims.proj_blocks() * sizeof(block_q4);
        CU(api->memcpy_h2d(reinterpret_cast<char*>(g.gate) + next * pb, layers[l].gate + e * dims.proj_blocks(), pb, nullptr));
        CU(api->memcpy_h2d(reinterpret_cast<char*>(g.up) + next * pb, layers[l].up + e * dims.proj_blocks(), pb, nullptr));
        CU(api->memcpy_h2d(reinterpret_cast<char*>(g.down) + next * pb, layers[l].down + e * dims.proj_blocks(), pb, nullptr));
        slot[e] = next++;
      }
      g.slot_of = static_cast<int32_t*>(dev_alloc_or_die(sizeof(int32_t) * dims.experts));
      CU(api->memcpy_h2d(g.slot_of, slot.data(), slot.size() * 4, nullptr));
    }
    CU(api->stream_sync(nullptr));

    double t_sum = 0, bound_sum = 0, gpu_sum = 0, cpu_sum = 0, hot_pairs = 0, pairs = 0;
    int measured = 0;
    std::vector<int32_t> step_ids(size_t(B) * dims.top_k);
    for (int step = 0; step < o.steps + 3; ++step) {
      const int l = step % L;
      const GpuLayer& g = gl[l];
      routing.draw(l, B, rng, step_ids.data());
      // Bytes this step must read: distinct hot and cold experts.
      std::vector<uint8_t> used(dims.experts, 0);
      for (int32_t e : step_ids) used[e] = 1;
      double hot_b = double(dims.shared_bytes()), cold_b = 0;
      for (int e = 0; e < dims.experts; ++e)
        if (used[e]) (g.cold_mask[e] ? cold_b : hot_b) += double(dims.expert_bytes());
      for (int32_t e : step_ids) hot_pairs += g.cold_mask[e] ? 0 : 1;
      pairs += double(step_ids.size());

      const double t0 = now_s();
      // x to the host on its own stream, so the CPU can start while the GPU computes.
      CU(api->memcpy_d2h(h_x, d_x, sizeof(float) * B * dims.hidden, xstream));
      CU(api->event_record(x_ready, xstream));
      CU(api->memcpy_h2d(d_ids, step_ids.data(), step_ids.size() * 4, s));
      // GPU: shared expert then hot experts, accumulated into d_y.
      kk_matmul_args gu{dims.inter, dims.hidden, B}, dn{dims.hidden, dims.inter, B};
      CU(api->matmul_bf16(&gu, shared, d_x, d_g, s));
      CU(api->matmul_bf16(&gu, shared + size_t(dims.inter) * dims.hidden, d_x, d_u, s));
      CU(api->silu_mul(int64_t(B) * dims.inter, d_g, d_u, d_g, s));
      CU(api->matmul_bf16(&dn, shared + 2 * size_t(dims.inter) * dims.hidden, d_g, d_y, s));
      if (g.hot) CU(api->moe_q4(&ma, g.gate, g.up, g.down, g.slot_of, d_x, d_ids, d_w, d_y, ws, s));
      CU(api->event_sync(x_ready));  // only the copy of x: the GPU work keeps running
      const double tc0 = now_s();
      kk::cpu::moe(cctx, layers[l].tg, layers[l].tu, layers[l].td, h_x, B, dims.top_k, step_ids.data(), w.data(), h_y,
                   g.cold_mask.data());
      const double tc1 = now_s();
      CU(api->memcpy_h2d(d_ycpu, h_y, sizeof(float) * B * dims.hidden, s));
      CU(api->add_inplace(int64_t(B) * dims.hidden, d_ycpu, d_y, s));
      CU(api->stream_sync(s));
      const double t1 = now_s();
      if (step < 3) continue;  // warm-up
      ++measured;
      t_sum += t1 - t0;
      cpu_sum += tc1 - tc0;
      bound_sum += std::max(cold_b / (bw.cpu_read * 1e9), hot_b / (bw.hbm_copy * 1e9));
    }
    // GPU-only time of the same work (the part the CPU overlaps with), for the breakdown.
    {
      const GpuLayer& g = gl[0];
      kk_cuda_event e0 = api->event_create(), e1 = api->event_create();
      CU(api->event_record(e0, s));
      for (int r = 0; r < 10; ++r) {
        kk_matmul_args gu{dims.inter, dims.hidden, B}, dn{dims.hidden, dims.inter, B};
        CU(api->matmul_bf16(&gu, shared, d_x, d_g, s));
        CU(api->matmul_bf16(&gu, shared + size_t(dims.inter) * dims.hidden, d_x, d_u, s));
        CU(api->silu_mul(int64_t(B) * dims.inter, d_g, d_u, d_g, s));
        CU(api->matmul_bf16(&dn, shared + 2 * size_t(dims.inter) * dims.hidden, d_g, d_y, s));
        if (g.hot) CU(api->moe_q4(&ma, g.gate, g.up, g.down, g.slot_of, d_x, d_ids, d_w, d_y, ws, s));
      }
      CU(api->event_record(e1, s));
      CU(api->event_sync(e1));
      float ms = 0;
      CU(api->event_elapsed_ms(e0, e1, &ms));
      gpu_sum = ms / 10;
      api->event_destroy(e0);
      api->event_destroy(e1);
    }
    DecodeRow r;
    r.skew = skew;
    r.share_target = target;
    r.share_planned = plan.gpu_traffic_share;
    r.share_measured = pairs > 0 ? hot_pairs / pairs : 0;
    r.hot_experts = plan.count();
    r.ms_layer = 1e3 * t_sum / measured;
    r.ms_bound = 1e3 * bound_sum / measured;
    r.ms_gpu_only = gpu_sum;
    r.ms_cpu_only = 1e3 * cpu_sum / measured;
    rows.push_back(r);
    std::printf("decode skew=%.2f target=%2d%%: hot experts=%4d planned=%.1f%% measured=%.1f%%  %.3f ms/layer "
                "(bound %.3f, x%.2f; cpu part %.3f, gpu part %.3f)  => MoE-only %.2f tok/s over %d layers\n",
                skew, target, r.hot_experts, 100 * r.share_planned, 100 * r.share_measured, r.ms_layer, r.ms_bound,
                r.ms_layer / r.ms_bound, r.ms_cpu_only, r.ms_gpu_only, 1e3 * B / (r.ms_layer * kMoeLayersK2),
                kMoeLayersK2);
    std::fflush(stdout);
    for (auto& g : gl) {
      api->dev_free(g.gate);
      api->dev_free(g.up);
      api->dev_free(g.down);
      api->dev_free(g.slot_of);
    }
  }
  api->stream_destroy(s);
  api->stream_destroy(xstream);
  api->event_destroy(x_ready);
  for (void* p : {(void*)shared, (void*)d_x, (void*)d_y, (void*)d_ycpu, (void*)d_g, (void*)d_ids, (void*)d_w, ws})
    api->dev_free(p);
  api->host_free_pinned(h_x);
  api->host_free_pinned(h_y);
  return rows;
}

struct PrefillRow { int tokens; double ms_layer, ms_bound, tok_s_k2, tok_s_bound_k2; int experts_streamed; };

// Streams every expert the prompt uses through two staging buffers while the GPU computes the
// previous chunk; returns time per layer.
PrefillRow bench_prefill(int P, Layer& layer, Routing& routing, const Bandwidths& bw) {
  std::mt19937_64 rng(P);
  std::vector<int32_t> ids(size_t(P) * dims.top_k);
  routing.draw(0, P, rng, ids.data());
  std::vector<int> used;
  {
    std::vector<uint8_t> u(dims.experts, 0);
    for (int32_t e : ids) u[e] = 1;
    for (int e = 0; e < dims.experts; ++e) if (u[e]) used.push_back(e);
  }
  const int n_chunks = int((used.size() + kStreamChunk - 1) / kStreamChunk);
  const size_t pb = dims.proj_blocks() * sizeof(block_q4);
  block_q4* stage[2][3];
  for (auto& b : stage) for (auto& p : b) p = static_cast<block_q4*>(dev_alloc_or_die(pb * kStreamChunk));
  // slot_of per chunk: the chunk's experts in staging slots, the rest -1.
  int32_t* d_slots = static_cast<int32_t*>(dev_alloc_or_die(sizeof(int32_t) * dims.experts * n_chunks));
  {
    std::vector<int32_t> all(size_t(dims.experts) * n_chunks, -1);
    for (int c = 0; c < n_chunks; ++c)
      for (int j = 0; j < kStreamChunk && c * kStreamChunk + j < int(used.size()); ++j)
        all[size_t(c) * dims.experts + used[c * kStreamChunk + j]] = j;
    CU(api->memcpy_h2d(d_slots, all.data(), all.size() * 4, nullptr));
  }
  float* d_x = static_cast<float*>(dev_alloc_or_die(sizeof(float) * size_t(P) * dims.hidden));
  float* d_y = static_cast<float*>(dev_alloc_or_die(sizeof(float) * size_t(P) * dims.hidden));
  int32_t* d_ids = static_cast<int32_t*>(dev_alloc_or_die(ids.size() * 4));
  float* d_w = static_cast<float*>(dev_alloc_or_die(ids.size() * 4));
  CU(api->memset_d(d_x, 0, sizeof(float) * size_t(P) * dims.hidden, nullptr));
  CU(api->memcpy_h2d(d_ids, ids.data(), ids.size() * 4, nullptr));
  std::vector<float> w(ids.size(), 2.827f / dims.top_k);
  CU(api->memcpy_h2d(d_w, w.data(), w.size() * 4, nullptr));
  kk_moe_args ma{P, dims.top_k, dims.hidden, dims.inter, dims.experts, 1};
  void* ws = dev_alloc_or_die(api->moe_workspace_bytes(&ma));
  kk_cuda_stream copy = api->stream_create(), comp = api->stream_create();
  kk_cuda_event copied[2] = {api->event_create(), api->event_create()};
  kk_cuda_event freed[2] = {api->event_create(), api->event_create()};
  CU(api->stream_sync(nullptr));

  double best = 1e30;
  for (int rep = 0; rep < 2; ++rep) {
    const double t0 = now_s();
    CU(api->memset_d(d_y, 0, sizeof(float) * size_t(P) * dims.hidden, comp));
    for (int c = 0; c < n_chunks; ++c) {
      const int b = c % 2;
      if (c >= 2) CU(api->stream_wait_event(copy, freed[b]));  // staging buffer b is free again
      for (int j = 0; j < kStreamChunk && c * kStreamChunk + j < int(used.size()); ++j) {
        const int e = used[c * kStreamChunk + j];
        CU(api->memcpy_h2d(reinterpret_cast<char*>(stage[b][0]) + j * pb, layer.gate + e * dims.proj_blocks(), pb, copy));
        CU(api->memcpy_h2d(reinterpret_cast<char*>(stage[b][1]) + j * pb, layer.up + e * dims.proj_blocks(), pb, copy));
        CU(api->memcpy_h2d(reinterpret_cast<char*>(stage[b][2]) + j * pb, layer.down + e * dims.proj_blocks(), pb, copy));
      }
      CU(api->event_record(copied[b], copy));
      CU(api->stream_wait_event(comp, copied[b]));
      CU(api->moe_q4(&ma, stage[b][0], stage[b][1], stage[b][2], d_slots + size_t(c) * dims.experts, d_x, d_ids, d_w,
                     d_y, ws, comp));
      CU(api->event_record(freed[b], comp));
    }
    CU(api->stream_sync(comp));
    best = std::min(best, now_s() - t0);
  }
  PrefillRow r;
  r.tokens = P;
  r.experts_streamed = int(used.size());
  r.ms_layer = best * 1e3;
  r.ms_bound = double(used.size()) * dims.expert_bytes() / (bw.pcie_h2d * 1e9) * 1e3;
  r.tok_s_k2 = P / (r.ms_layer * 1e-3 * kMoeLayersK2);
  r.tok_s_bound_k2 = P / (r.ms_bound * 1e-3 * kMoeLayersK2);
  std::printf("prefill %5d tokens: %d experts streamed, %.1f ms/layer (PCIe bound %.1f, x%.2f) => %.0f tok/s over %d "
              "MoE layers (bound %.0f)\n",
              P, r.experts_streamed, r.ms_layer, r.ms_bound, r.ms_layer / r.ms_bound, r.tok_s_k2, kMoeLayersK2,
              r.tok_s_bound_k2);
  std::fflush(stdout);
  for (auto& b : stage) for (auto* p : b) api->dev_free(p);
  for (void* p : {(void*)d_slots, (void*)d_x, (void*)d_y, (void*)d_ids, (void*)d_w, ws}) api->dev_free(p);
  for (auto* e : {copied[0], copied[1], freed[0], freed[1]}) api->event_destroy(e);
  api->stream_destroy(copy);
  api->stream_destroy(comp);
  return r;
}

// ---- a small PNG writer (uncompressed deflate) for the plot, so the tool needs no library ----
uint32_t crc32(const uint8_t* p, size_t n, uint32_t c = 0xffffffffu) {
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c;
}
void put32(std::string& s, uint32_t v) { for (int i = 3; i >= 0; --i) s.push_back(char((v >> (8 * i)) & 0xff)); }
void chunk(std::string& png, const char* type, const std::string& data) {
  put32(png, uint32_t(data.size()));
  std::string td = std::string(type, 4) + data;
  png += td;
  put32(png, crc32(reinterpret_cast<const uint8_t*>(td.data()), td.size()) ^ 0xffffffffu);
}
void write_png(const std::string& path, int W, int H, const std::vector<uint8_t>& rgb) {
  std::string raw;
  for (int y = 0; y < H; ++y) { raw.push_back(0); raw.append(reinterpret_cast<const char*>(&rgb[size_t(y) * W * 3]), size_t(W) * 3); }
  std::string z = "\x78\x01";
  uint32_t a = 1, b = 0;
  for (unsigned char c : raw) { a = (a + c) % 65521; b = (b + a) % 65521; }
  for (size_t i = 0; i < raw.size(); i += 65535) {
    const size_t n = std::min<size_t>(65535, raw.size() - i);
    z.push_back(i + n == raw.size() ? 1 : 0);
    z.push_back(char(n & 0xff)); z.push_back(char(n >> 8));
    z.push_back(char(~n & 0xff)); z.push_back(char((~n >> 8) & 0xff));
    z.append(raw, i, n);
  }
  put32(z, (b << 16) | a);
  std::string png = "\x89PNG\r\n\x1a\n", ihdr;
  put32(ihdr, W); put32(ihdr, H);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  std::ofstream(path, std::ios::binary) << png;
}

// Time per layer (solid) and bound (dashed) against the measured GPU share of expert traffic
// (x: 0 to 100 %), red for the skewed routing and blue for flat; 5 grid lines up to the returned
// y maximum in ms (the PNG has no text: the JSON and CSV carry the numbers).
double plot(const std::string& path, const std::vector<DecodeRow>& rows) {
  const int W = 640, H = 420, x0 = 60, y0 = 380, x1 = 620, y1 = 20;
  std::vector<uint8_t> img(size_t(W) * H * 3, 255);
  auto px = [&](int x, int y, const uint8_t* c) {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    for (int dx = 0; dx < 2; ++dx) for (int dy = 0; dy < 2; ++dy)
      if (x + dx < W && y + dy < H) std::memcpy(&img[(size_t(y + dy) * W + x + dx) * 3], c, 3);
  };
  auto line = [&](double ax, double ay, double bx, double by, const uint8_t* c, bool dashed) {
    const int n = int(std::max(std::fabs(bx - ax), std::fabs(by - ay))) + 1;
    for (int i = 0; i <= n; ++i) if (!dashed || (i / 6) % 2 == 0) px(int(ax + (bx - ax) * i / n), int(ay + (by - ay) * i / n), c);
  };
  const uint8_t black[3] = {0, 0, 0}, grey[3] = {200, 200, 200};
  double ymax = 0;
  for (auto& r : rows) ymax = std::max({ymax, r.ms_layer, r.ms_bound});
  ymax *= 1.1;
  if (ymax <= 0) return 0;
  for (int g = 1; g <= 5; ++g) line(x0, y0 - (y0 - y1) * g / 5.0, x1, y0 - (y0 - y1) * g / 5.0, grey, false);
  line(x0, y0, x1, y0, black, false);
  line(x0, y0, x0, y1, black, false);
  const uint8_t colours[2][3] = {{200, 40, 40}, {40, 80, 200}};
  auto X = [&](double share) { return x0 + (x1 - x0) * share; };  // share in [0, 1]
  auto Y = [&](double ms) { return y0 - (y0 - y1) * ms / ymax; };
  std::vector<double> skews;
  for (auto& r : rows) if (std::find(skews.begin(), skews.end(), r.skew) == skews.end()) skews.push_back(r.skew);
  for (size_t si = 0; si < skews.size(); ++si) {
    const uint8_t* c = colours[si % 2];
    const DecodeRow* prev = nullptr;
    for (auto& r : rows) {
      if (r.skew != skews[si]) continue;
      if (prev) {
        line(X(prev->share_measured), Y(prev->ms_layer), X(r.share_measured), Y(r.ms_layer), c, false);
        line(X(prev->share_measured), Y(prev->ms_bound), X(r.share_measured), Y(r.ms_bound), c, true);
      }
      for (int d = -3; d <= 3; ++d) { px(int(X(r.share_measured)) + d, int(Y(r.ms_layer)), c); px(int(X(r.share_measured)), int(Y(r.ms_layer)) + d, c); }
      prev = &r;
    }
  }
  write_png(path, W, H, img);
  return ymax;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--layers") o.layers = std::max(1, std::atoi(next()));
    else if (a == "--threads") o.threads = std::atoi(next());
    else if (a == "--batch") o.batch = std::max(1, std::atoi(next()));
    else if (a == "--steps") o.steps = std::max(1, std::atoi(next()));
    else if (a == "--skew") o.skew = std::atof(next());
    else if (a == "--shares") o.shares = parse_list(next());
    else if (a == "--prefill") o.prefill = parse_list(next());
    else if (a == "--out") o.out = next();
    else if (a == "--bw-mb") o.bw_bytes = size_t(std::max(1, std::atoi(next()))) << 20;
    else if (a == "--dims") {  // hidden,inter,experts,top_k — smoke runs only
      const std::vector<int> d = parse_list(next());
      if (d.size() != 4 || d[0] % KK_Q4_GROUP || d[1] % KK_Q4_GROUP || d[2] < d[3] || d[3] < 1) {
        std::fprintf(stderr, "--dims hidden,inter,experts,top_k (hidden and inter multiples of 32)\n");
        return 2;
      }
      dims.hidden = d[0], dims.inter = d[1], dims.experts = d[2], dims.top_k = d[3];
    }
    else { std::fprintf(stderr, "usage: kk_hybrid_bench [--layers N] [--threads T] [--batch B] [--steps S] [--skew Z] "
                                "[--shares 0,10,25,50] [--prefill 2048,8192] [--out DIR] [--bw-mb MB] [--dims h,i,e,k]\n"); return 2; }
  }
  kk::cuda::Plugin plugin;
  const kk::Status st = kk::cuda::load_plugin(&plugin);
  if (!st.ok()) {
    std::printf("kk_hybrid_bench: nothing to measure without a CUDA device: %s\n", st.message().c_str());
    return 77;
  }
  api = plugin.api;
  CU(api->set_device(0));
  kk_cuda_device_info info;
  CU(api->device_info(0, &info));
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const double ram = double(pages) * double(page);
  const int max_layers = std::max(1, int(ram * kMaxRamShare / (dims.experts * double(dims.expert_bytes()))));
  if (o.layers > max_layers) {
    std::printf("kk_hybrid_bench: %d layers need %.0f GB of RAM; using %d\n", o.layers,
                o.layers * dims.experts * double(dims.expert_bytes()) / 1e9, max_layers);
    o.layers = max_layers;
  }
  kk::ThreadPool pool(o.threads);
  std::printf("device: %s (sm_%d%d, %d SMs, %.1f GB); CPU threads %d; %d K2 MoE layers (%.1f GB pinned)\n", info.name,
              info.cc_major, info.cc_minor, info.sm_count, info.total_bytes / 1e9, pool.size(), o.layers,
              o.layers * dims.experts * double(dims.expert_bytes()) / 1e9);

  std::vector<Layer> layers(o.layers);
  for (int l = 0; l < o.layers; ++l) {
    Layer& L = layers[l];
    L.gate = static_cast<block_q4*>(pinned_or_die(dims.proj_blocks() * sizeof(block_q4) * dims.experts));
    L.up = static_cast<block_q4*>(pinned_or_die(dims.proj_blocks() * sizeof(block_q4) * dims.experts));
    L.down = static_cast<block_q4*>(pinned_or_die(dims.proj_blocks() * sizeof(block_q4) * dims.experts));
    fill_random_q4(pool, L.gate, dims.proj_blocks() * dims.experts, 3 * l + 1);
    fill_random_q4(pool, L.up, dims.proj_blocks() * dims.experts, 3 * l + 2);
    fill_random_q4(pool, L.down, dims.proj_blocks() * dims.experts, 3 * l + 3);
    L.tg = stacked(L.gate, dims.inter, dims.hidden, "bench.gate_exps");
    L.tu = stacked(L.up, dims.inter, dims.hidden, "bench.up_exps");
    L.td = stacked(L.down, dims.hidden, dims.inter, "bench.down_exps");
  }
  const Bandwidths bw = measure_bandwidths(pool, o.bw_bytes);
  std::printf("bandwidth GB/s: cpu_read %.1f, cpu_q4_gemv %.1f, hbm_copy %.1f, gpu_q4_gemv %.1f, pcie_h2d %.1f\n",
              bw.cpu_read, bw.cpu_q4_gemv, bw.hbm_copy, bw.gpu_q4_gemv, bw.pcie_h2d);

  std::vector<DecodeRow> decode;
  for (double skew : {o.skew, 0.0}) {
    Routing routing(o.layers, skew, 5);
    auto rows = bench_decode(o, pool, layers, routing, bw, skew);
    decode.insert(decode.end(), rows.begin(), rows.end());
    if (o.skew == 0.0) break;
  }
  std::vector<PrefillRow> prefill;
  {
    Routing routing(1, o.skew, 9);
    for (int P : o.prefill) prefill.push_back(bench_prefill(P, layers[0], routing, bw));
  }

  mkdir(o.out.c_str(), 0755);
  std::ofstream json(o.out + "/hybrid_bench.json");
  json << "{\"device\": \"" << info.name << "\", \"cpu_threads\": " << pool.size() << ", \"layers\": " << o.layers
       << ", \"batch\": " << o.batch << ",\n \"bandwidth_gbps\": {\"cpu_read\": " << bw.cpu_read
       << ", \"cpu_q4_gemv\": " << bw.cpu_q4_gemv << ", \"hbm_copy\": " << bw.hbm_copy
       << ", \"gpu_q4_gemv\": " << bw.gpu_q4_gemv << ", \"pcie_h2d\": " << bw.pcie_h2d << "},\n \"decode\": [";
  std::ofstream csv(o.out + "/hybrid_bench_decode.csv");
  csv << "skew,target_share,planned_share,measured_share,hot_experts,ms_layer,ms_bound,ratio,ms_cpu_part,ms_gpu_part\n";
  for (size_t i = 0; i < decode.size(); ++i) {
    const auto& r = decode[i];
    json << (i ? ",\n  " : "\n  ") << "{\"skew\": " << r.skew << ", \"target_share\": " << r.share_target / 100.0
         << ", \"planned_share\": " << r.share_planned << ", \"measured_share\": " << r.share_measured
         << ", \"hot_experts\": " << r.hot_experts << ", \"ms_per_layer\": " << r.ms_layer
         << ", \"ms_bound\": " << r.ms_bound << ", \"ratio_to_bound\": " << r.ms_layer / r.ms_bound
         << ", \"ms_cpu_part\": " << r.ms_cpu_only << ", \"ms_gpu_part\": " << r.ms_gpu_only
         << ", \"moe_only_decode_tok_s_k2\": " << 1e3 * o.batch / (r.ms_layer * kMoeLayersK2) << "}";
    csv << r.skew << "," << r.share_target << "," << r.share_planned << "," << r.share_measured << "," << r.hot_experts
        << "," << r.ms_layer << "," << r.ms_bound << "," << r.ms_layer / r.ms_bound << "," << r.ms_cpu_only << ","
        << r.ms_gpu_only << "\n";
  }
  json << "],\n \"prefill\": [";
  for (size_t i = 0; i < prefill.size(); ++i) {
    const auto& r = prefill[i];
    json << (i ? ",\n  " : "\n  ") << "{\"tokens\": " << r.tokens << ", \"experts_streamed\": " << r.experts_streamed
         << ", \"ms_per_layer\": " << r.ms_layer << ", \"ms_pcie_bound\": " << r.ms_bound
         << ", \"ratio_to_bound\": " << r.ms_layer / r.ms_bound << ", \"tok_s_k2_moe_layers\": " << r.tok_s_k2
         << ", \"tok_s_bound_k2_moe_layers\": " << r.tok_s_bound_k2 << "}";
  }
  json << "]}\n";
  const double ymax = plot(o.out + "/hybrid_bench_decode.png", decode);
  std::printf("plot: x = GPU share of expert traffic 0..100 %%, y = 0..%.3f ms per layer (5 grid lines); red skewed, "
              "blue flat; solid measured, dashed bound\n", ymax);
  std::printf("wrote %s/hybrid_bench.json, hybrid_bench_decode.csv, hybrid_bench_decode.png\n", o.out.c_str());
  for (auto& L : layers) { api->host_free_pinned(L.gate); api->host_free_pinned(L.up); api->host_free_pinned(L.down); }
  return 0;
}

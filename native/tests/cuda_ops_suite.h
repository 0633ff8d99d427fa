// cuda_ops_suite.h — the backend-ops suite of the CUDA plugin: every op of a kk_cuda_plugin table
// against the CPU plain path (cpu/ops.h with the plain kernels; model/rope.h, model/router.h,
// sample/sampler.h) on random inputs, odd sizes included. Run on a GPU by test_cuda_ops.cpp and on
// the CPU emulator of the same kernel sources by test_cuda_emu.cpp.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kk_cuda_plugin_abi.h"
#include "core/kv_pages.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "cpu/kernels.h"
#include "cpu/ops.h"
#include "model/config.h"
#include "model/rope.h"
#include "model/router.h"
#include "sample/sampler.h"

namespace cuda_ops_suite {

inline const kk_cuda_plugin* g_api = nullptr;
inline int g_failures = 0;
inline std::mt19937 g_rng(1234);

inline void report(const char* op, const std::string& shape, double err, double tol) {
  const bool ok = err <= tol;  // NaN fails
  std::printf("%-5s %-12s %-44s max_err=%.3g tol=%.3g\n", ok ? "ok" : "FAIL", op, shape.c_str(), err, tol);
  if (!ok) ++g_failures;
}

#define CUDA_OK(call)                                                                         \
  do {                                                                                       \
    if ((call) != 0) {                                                                       \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, g_api->last_error()); \
      ++g_failures;                                                                          \
      return;                                                                                \
    }                                                                                        \
  } while (0)

// Device buffer that frees itself.
template <typename T>
struct Dev {
  T* p = nullptr;
  size_t n = 0;
  explicit Dev(size_t count) : n(count) { p = static_cast<T*>(g_api->dev_alloc(sizeof(T) * (count ? count : 1))); }
  explicit Dev(const std::vector<T>& h) : Dev(h.size()) { up(h); }
  ~Dev() { g_api->dev_free(p); }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  void up(const std::vector<T>& h) { if (p && !h.empty()) g_api->memcpy_h2d(p, h.data(), sizeof(T) * h.size(), nullptr); }
  std::vector<T> down() const {
    std::vector<T> h(n);
    if (p && n) g_api->memcpy_d2h(h.data(), p, sizeof(T) * n, nullptr);
    g_api->stream_sync(nullptr);
    return h;
  }
};

inline std::vector<float> randn(size_t n, float scale = 1.f) {
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g_rng);
  return v;
}

inline std::vector<block_q4> random_q4(size_t n_blocks) {
  std::uniform_real_distribution<float> sc(0.005f, 0.05f);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<block_q4> b(n_blocks);
  for (auto& blk : b) {
    blk.scale_bf16 = kk::f32_to_bf16(sc(g_rng));
    for (auto& q : blk.qs) q = uint8_t(byte(g_rng));
  }
  return b;
}

inline double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, double(std::fabs(x)));
  return m;
}

// Largest |a - b| relative to the larger of max|b| and 1 (outputs are O(1) by construction).
inline double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e = std::max(e, double(std::fabs(a[i] - b[i])));
  return e / std::max(1.0, max_abs(b));
}

inline std::string dims(std::initializer_list<long> v, const char* names) {
  std::string s = names;
  s += " =";
  for (long x : v) s += " " + std::to_string(x);
  return s;
}

inline kk::ThreadPool& pool() {
  static kk::ThreadPool p(2);
  return p;
}
inline kk::cpu::OpContext cpu_ctx() {
  kk::cpu::OpContext c;
  c.pool = &pool();
  c.kernels = &kk::cpu::kernels_plain();
  return c;
}

// fp32 accumulation in a different order than the CPU: a relative 1e-4 catches any layout or
// indexing error (those are O(1)) with a wide margin over rounding.
constexpr double kMatmulTol = 1e-4;

inline void test_matmul_q4(int rows, int cols, int n) {
  kk::Tensor W;
  W.name = "test.q4";
  W.type = kk::DType::Q4;
  W.shape = {rows, cols};
  auto blocks = random_q4(size_t(rows) * cols / KK_Q4_GROUP);
  W.data = blocks.data();
  auto x = randn(size_t(n) * cols);
  std::vector<float> ref(size_t(n) * rows);
  kk::cpu::matmul(cpu_ctx(), W, x.data(), n, ref.data());
  Dev<block_q4> dW(blocks);
  Dev<float> dx(x), dy(size_t(n) * rows);
  kk_matmul_args a{rows, cols, n};
  CUDA_OK(g_api->matmul_q4(&a, dW.p, dx.p, dy.p, nullptr));
  report("matmul_q4", dims({rows, cols, n}, "rows cols n"), rel_err(dy.down(), ref), kMatmulTol);
}

inline void test_matmul_bf16(int rows, int cols, int n) {
  std::vector<uint16_t> w(size_t(rows) * cols);
  auto wf = randn(w.size(), 0.05f);
  for (size_t i = 0; i < w.size(); ++i) w[i] = kk::f32_to_bf16(wf[i]);
  kk::Tensor W;
  W.name = "test.bf16";
  W.type = kk::DType::BF16;
  W.shape = {rows, cols};
  W.data = w.data();
  auto x = randn(size_t(n) * cols);
  std::vector<float> ref(size_t(n) * rows);
  kk::cpu::matmul(cpu_ctx(), W, x.data(), n, ref.data());
  Dev<uint16_t> dW(w);
  Dev<float> dx(x), dy(size_t(n) * rows);
  kk_matmul_args a{rows, cols, n};
  CUDA_OK(g_api->matmul_bf16(&a, dW.p, dx.p, dy.p, nullptr));
  report("matmul_bf16", dims({rows, cols, n}, "rows cols n"), rel_err(dy.down(), ref), kMatmulTol);
}

inline void test_matmul_f32(int rows, int cols, int n) {
  auto w = randn(size_t(rows) * cols, 0.05f);
  kk::Tensor W;
  W.name = "test.f32";
  W.type = kk::DType::F32;
  W.shape = {rows, cols};
  W.data = w.data();
  auto x = randn(size_t(n) * cols);
  std::vector<float> ref(size_t(n) * rows);
  kk::cpu::matmul(cpu_ctx(), W, x.data(), n, ref.data());
  Dev<float> dW(w), dx(x), dy(size_t(n) * rows);
  kk_matmul_args a{rows, cols, n};
  CUDA_OK(g_api->matmul_f32(&a, dW.p, dx.p, dy.p, nullptr));
  report("matmul_f32", dims({rows, cols, n}, "rows cols n"), rel_err(dy.down(), ref), kMatmulTol);
}

// Routed experts with only some experts resident on the GPU (hybrid placement) and the CPU op
// restricted to the same experts by its expert_mask.
inline void test_moe(int E, int hidden, int inter, int top_k, int n, const std::vector<int>& resident, bool accumulate) {
  const size_t gu_blocks = size_t(inter) * hidden / KK_Q4_GROUP, dn_blocks = size_t(hidden) * inter / KK_Q4_GROUP;
  auto gate = random_q4(E * gu_blocks), up = random_q4(E * gu_blocks), down = random_q4(E * dn_blocks);
  auto tensor = [](std::vector<block_q4>& b, long e, long r, long c) {
    kk::Tensor t;
    t.name = "test.experts";
    t.type = kk::DType::Q4;
    t.shape = {e, r, c};
    t.data = b.data();
    return t;
  };
  const kk::Tensor tg = tensor(gate, E, inter, hidden), tu = tensor(up, E, inter, hidden), td = tensor(down, E, hidden, inter);
  std::vector<int32_t> ids(size_t(n) * top_k);
  std::vector<float> w(ids.size());
  std::uniform_real_distribution<float> uw(0.1f, 1.f);
  std::vector<int> perm(E);
  for (int t = 0; t < n; ++t) {
    for (int e = 0; e < E; ++e) perm[e] = e;
    std::shuffle(perm.begin(), perm.end(), g_rng);
    for (int k = 0; k < top_k; ++k) { ids[size_t(t) * top_k + k] = perm[k]; w[size_t(t) * top_k + k] = uw(g_rng); }
  }
  auto x = randn(size_t(n) * hidden);
  std::vector<uint8_t> mask(E, 0);
  std::vector<int32_t> slot_of(E, -1);
  std::vector<block_q4> g_res, u_res, d_res;
  int slots = 0;
  for (int e : resident) {
    mask[e] = 1;
    slot_of[e] = slots++;
    g_res.insert(g_res.end(), gate.begin() + e * gu_blocks, gate.begin() + (e + 1) * gu_blocks);
    u_res.insert(u_res.end(), up.begin() + e * gu_blocks, up.begin() + (e + 1) * gu_blocks);
    d_res.insert(d_res.end(), down.begin() + e * dn_blocks, down.begin() + (e + 1) * dn_blocks);
  }
  std::vector<float> ref(size_t(n) * hidden);
  kk::cpu::moe(cpu_ctx(), tg, tu, td, x.data(), n, top_k, ids.data(), w.data(), ref.data(), mask.data());
  auto y0 = randn(ref.size());
  if (accumulate)
    for (size_t i = 0; i < ref.size(); ++i) ref[i] += y0[i];
  Dev<block_q4> dg(g_res), du(u_res), dd(d_res);
  Dev<int32_t> dslot(slot_of), dids(ids);
  Dev<float> dx(x), dw(w), dy(y0);
  kk_moe_args a{n, top_k, hidden, inter, E, accumulate ? 1 : 0};
  Dev<uint8_t> ws(g_api->moe_workspace_bytes(&a));
  CUDA_OK(g_api->moe_q4(&a, dg.p, du.p, dd.p, dslot.p, dx.p, dids.p, dw.p, dy.p, ws.p, nullptr));
  report("moe_q4",
         dims({E, hidden, inter, top_k, n, long(resident.size()), accumulate}, "E hid inter k n resident acc"),
         rel_err(dy.down(), ref), kMatmulTol);
}

inline void test_rmsnorm(int n, int d) {
  auto x = randn(size_t(n) * d, 3.f), w = randn(d);
  std::vector<float> ref(x.size());
  kk::cpu::rmsnorm(x.data(), w.data(), n, d, 1e-6f, ref.data());
  Dev<float> dx(x), dw(w), dy(x.size());
  kk_rmsnorm_args a{n, d, 1e-6f};
  CUDA_OK(g_api->rmsnorm(&a, dx.p, dw.p, dy.p, nullptr));
  report("rmsnorm", dims({n, d}, "n d"), rel_err(dy.down(), ref), 1e-5);
}

// MLA decode over a paged cache as the engine lays it out (kernels/common/kk_kv.h): a pool of
// blocks of two layers in `dtype`, layer 1 read; the sequence's block table is a shuffle of the
// pool's blocks (the others hold random bytes, NaN patterns included, so a kernel ignoring the
// table or the layer offset fails), and the last block is partial unless n_ctx % B == 0. The CPU
// op reads the same bytes through the same table; both dequantize identically, so one tolerance.
inline void test_mla_decode(int H, int R, int P, int n_ctx, int splits /* 0: plugin's choice */,
                            int B = 64, int dtype = KK_KV_F32) {
  const int D = R + P, rb = KK_KV_ROW_BYTES(dtype, D), kLayers = 2, kLayer = 1;
  const int nb = n_ctx > 0 ? (n_ctx + B - 1) / B : 0, pool_blocks = 2 * nb + 3;
  const size_t stride = size_t(kLayers) * B * rb;
  std::vector<uint8_t> pool(size_t(pool_blocks) * stride);
  for (auto& b : pool) b = uint8_t(g_rng());
  std::vector<int32_t> order(pool_blocks);
  for (int i = 0; i < pool_blocks; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), g_rng);
  const std::vector<int32_t> table(order.begin(), order.begin() + std::max(nb, 1));
  const auto rows = randn(size_t(std::max(n_ctx, 1)) * D);
  auto row_at = [&](int t) { return pool.data() + size_t(table[t / B]) * stride + size_t(kLayer * B + t % B) * rb; };
  for (int t = 0; t < n_ctx; ++t) kk_kv_store_row(&rows[size_t(t) * D], D, dtype, row_at(t));
  std::vector<const uint8_t*> blocks(table.size());
  for (size_t b = 0; b < table.size(); ++b) blocks[b] = pool.data() + size_t(table[b]) * stride + size_t(kLayer) * B * rb;
  const kk::KvPages pages{blocks.data(), B, D, dtype, rb};

  auto q_lat = randn(size_t(H) * R, 0.2f), q_pe = randn(size_t(H) * P, 0.2f);
  const float scale = 1.f / std::sqrt(float(R + P)) * 1.3466f * 1.3466f;
  std::vector<float> ref(size_t(H) * R);
  kk::cpu::mla_decode_attention(cpu_ctx(), q_lat.data(), q_pe.data(), pages, n_ctx, H, R, P, scale, ref.data());
  kk_mla_decode_args a{H, R, P, n_ctx, scale, B, int(stride), dtype, rb};
  const int s = splits > 0 ? splits : g_api->mla_decode_splits(&a);
  Dev<float> dq(q_lat), dp(q_pe), dout(ref.size());
  Dev<uint8_t> dpool(pool);
  Dev<int32_t> dtable(table);
  Dev<uint8_t> ws(g_api->mla_decode_workspace_bytes(&a, s));
  CUDA_OK(g_api->mla_decode(&a, s, dq.p, dp.p, dpool.p + size_t(kLayer) * B * rb, dtable.p, dout.p, ws.p, nullptr));
  const std::string name = std::string("mla_decode.") + kk::kv_dtype_name(dtype);
  report(name.c_str(), dims({H, R, P, n_ctx, s, B}, "H R P n_ctx splits B"), rel_err(dout.down(), ref), 1e-5);
}

inline kk::ModelConfig rope_config(int rope_dim, bool yarn, double mscale, double mscale_all_dim) {
  kk::ModelConfig c;
  c.qk_rope_head_dim = rope_dim;
  c.qk_nope_head_dim = 128;
  c.rope_theta = 50000;
  c.max_position_embeddings = 262144;
  if (yarn) {
    c.rope_scaling.type = "yarn";
    c.rope_scaling.factor = 64;
    c.rope_scaling.original_max_position_embeddings = 4096;
    c.rope_scaling.beta_fast = 1;
    c.rope_scaling.beta_slow = 1;
    c.rope_scaling.mscale = mscale;
    c.rope_scaling.mscale_all_dim = mscale_all_dim;
  }
  return c;
}

// q layout: per token H heads of [nope | rope]; positions up to 200K stress the float angle.
inline void test_rope(int n, int H, int nope, int rope_dim, bool yarn, double mscale, double mscale_all_dim) {
  const kk::Rope rope = kk::Rope::from_config(rope_config(rope_dim, yarn, mscale, mscale_all_dim));
  const int hs = nope + rope_dim;
  auto x = randn(size_t(n) * H * hs);
  std::vector<int32_t> pos(n);
  std::uniform_int_distribution<int> up(0, 200000);
  for (auto& p : pos) p = up(g_rng);
  pos[0] = 0;
  std::vector<float> ref = x;
  for (int t = 0; t < n; ++t)
    for (int h = 0; h < H; ++h) rope.apply(ref.data() + size_t(t) * H * hs + size_t(h) * hs + nope, pos[t]);
  Dev<float> dx(x), dinv(rope.inv_freq);
  Dev<int32_t> dpos(pos);
  kk_rope_args a{n, H, rope_dim, H * hs, hs, nope, rope.attention_factor};
  CUDA_OK(g_api->rope(&a, dx.p, dpos.p, dinv.p, nullptr));
  // cos/sin of angles up to ~2e5 rad: float32 argument reduction differs by a few ulp of the angle.
  report("rope", dims({n, H, nope, rope_dim, yarn}, "n H nope dim yarn"), rel_err(dx.down(), ref), 2e-4);
}

inline void test_router(int n, int E, int top_k, int n_group, int topk_group, bool norm, bool with_bias) {
  kk::ModelConfig c;
  c.n_routed_experts = E;
  c.num_experts_per_tok = top_k;
  c.n_group = n_group;
  c.topk_group = topk_group;
  c.norm_topk_prob = norm;
  c.routed_scaling_factor = 2.827;
  auto logits = randn(size_t(n) * E, 2.f), bias = randn(E, 0.1f);
  std::vector<int32_t> ref_ids(size_t(n) * top_k);
  std::vector<float> ref_w(ref_ids.size());
  for (int t = 0; t < n; ++t)
    kk::route_token(c, logits.data() + size_t(t) * E, with_bias ? bias.data() : nullptr, ref_ids.data() + size_t(t) * top_k,
                    ref_w.data() + size_t(t) * top_k);
  Dev<float> dl(logits), db(bias), dw(ref_w.size());
  Dev<int32_t> di(ref_ids.size());
  kk_router_args a{n, E, top_k, n_group, topk_group, norm ? 1 : 0, 2.827f};
  CUDA_OK(g_api->router_topk(&a, dl.p, with_bias ? db.p : nullptr, di.p, dw.p, nullptr));
  const auto ids = di.down();
  double mismatch = 0;
  for (size_t i = 0; i < ids.size(); ++i) mismatch += ids[i] != ref_ids[i];
  const std::string shape = dims({n, E, top_k, n_group, topk_group, norm, with_bias}, "n E k groups keep norm bias");
  report("router_ids", shape, mismatch, 0);
  report("router_w", shape, rel_err(dw.down(), ref_w), 1e-5);
}

inline void test_sample(int rows, int vocab, float temperature) {
  auto logits = randn(size_t(rows) * vocab, 3.f);
  std::vector<float> u(rows);
  std::uniform_real_distribution<float> uu(0.f, 1.f);
  for (auto& x : u) x = uu(g_rng);
  Dev<float> dl(logits), du(u);
  Dev<int32_t> dout(rows);
  kk_sample_args a{rows, vocab, temperature};
  CUDA_OK(g_api->sample(&a, dl.p, temperature > 0 ? du.p : nullptr, dout.p, nullptr));
  const auto got = dout.down();
  double bad = 0;
  for (int r = 0; r < rows; ++r) {
    const float* l = logits.data() + size_t(r) * vocab;
    if (temperature <= 0) { bad += got[r] != kk::argmax(l, vocab); continue; }
    // The draw must be the index whose CDF interval holds u (exact in double, with a slack for
    // fp32 sums at the interval's edges).
    const double mx = *std::max_element(l, l + vocab);
    double total = 0;
    for (int i = 0; i < vocab; ++i) total += std::exp((l[i] - mx) / temperature);
    double lo = 0;
    for (int i = 0; i < got[r] && i < vocab; ++i) lo += std::exp((l[i] - mx) / temperature);
    const double hi = got[r] >= 0 && got[r] < vocab ? lo + std::exp((l[got[r]] - mx) / temperature) : -1;
    const double target = double(u[r]) * total, slack = 1e-4 * total;
    bad += !(got[r] >= 0 && got[r] < vocab && target >= lo - slack && target <= hi + slack);
  }
  report(temperature > 0 ? "sample" : "argmax", dims({rows, vocab}, "rows vocab"), bad, 0);
}

inline void test_elementwise(int64_t n, int tokens, int hidden) {
  auto g = randn(n), u = randn(n), y = randn(n);
  std::vector<float> ref_silu(n), ref_add(n);
  for (int64_t i = 0; i < n; ++i) {
    ref_silu[i] = g[i] / (1.f + std::exp(-g[i])) * u[i];
    ref_add[i] = y[i] + g[i];
  }
  Dev<float> dg(g), du(u), dy(y), dout(n);
  CUDA_OK(g_api->silu_mul(n, dg.p, du.p, dout.p, nullptr));
  report("silu_mul", dims({long(n)}, "n"), rel_err(dout.down(), ref_silu), 1e-6);
  CUDA_OK(g_api->add_inplace(n, dg.p, dy.p, nullptr));
  report("add", dims({long(n)}, "n"), rel_err(dy.down(), ref_add), 1e-7);
  const int vocab = 37;
  std::vector<uint16_t> table(size_t(vocab) * hidden);
  auto tf = randn(table.size());
  for (size_t i = 0; i < table.size(); ++i) table[i] = kk::f32_to_bf16(tf[i]);
  std::vector<int32_t> ids(tokens);
  for (auto& id : ids) id = int32_t(g_rng() % vocab);
  std::vector<float> ref(size_t(tokens) * hidden);
  for (int t = 0; t < tokens; ++t)
    for (int i = 0; i < hidden; ++i) ref[size_t(t) * hidden + i] = kk::bf16_to_f32(table[size_t(ids[t]) * hidden + i]);
  Dev<uint16_t> dt(table);
  Dev<int32_t> di(ids);
  Dev<float> de(ref.size());
  CUDA_OK(g_api->embed_bf16(tokens, hidden, di.p, dt.p, de.p, nullptr));
  report("embed_bf16", dims({tokens, hidden}, "n hidden"), rel_err(de.down(), ref), 0);
}

// A captured graph replays the same work: rmsnorm captured once, launched twice on new input.
inline void test_graph() {
  const int n = 3, d = 513;
  auto x = randn(size_t(n) * d), w = randn(d);
  Dev<float> dx(x), dw(w), dy(x.size());
  kk_cuda_stream s = g_api->stream_create();
  if (!s) { ++g_failures; return; }
  kk_rmsnorm_args a{n, d, 1e-6f};
  kk_cuda_graph g = nullptr;
  CUDA_OK(g_api->graph_begin(s));
  CUDA_OK(g_api->rmsnorm(&a, dx.p, dw.p, dy.p, s));
  CUDA_OK(g_api->graph_end(s, &g));
  double err = 0;
  for (int rep = 0; rep < 2; ++rep) {
    x = randn(x.size());
    dx.up(x);
    g_api->stream_sync(nullptr);
    CUDA_OK(g_api->graph_launch(g, s));
    CUDA_OK(g_api->stream_sync(s));
    std::vector<float> ref(x.size());
    kk::cpu::rmsnorm(x.data(), w.data(), n, d, 1e-6f, ref.data());
    err = std::max(err, rel_err(dy.down(), ref));
  }
  g_api->graph_destroy(g);
  g_api->stream_destroy(s);
  report("graph", "rmsnorm captured, replayed twice", err, 1e-5);
}

// Runs every op test; `quick` keeps sizes small (the emulator runs threads as fibers).
// Returns the number of failures.
inline int run(const kk_cuda_plugin* api, bool quick) {
  g_api = api;
  g_failures = 0;
  for (auto [r, c, n] : {std::tuple{1, 32, 1}, {7, 64, 3}, {33, 96, 5}, {257, 2048, 1}, {64, 7168, 2}, {50, 256, 37}})
    test_matmul_q4(r, c, n);
  for (auto [r, c, n] : {std::tuple{1, 1, 1}, {7, 33, 3}, {33, 64, 5}, {129, 7168, 1}, {31, 200, 9}}) {
    test_matmul_bf16(r, c, n);
    test_matmul_f32(r, c, n);
  }
  test_moe(8, 64, 96, 3, 1, {0, 1, 2, 3, 4, 5, 6, 7}, false);
  test_moe(8, 64, 96, 3, 5, {0, 2, 3, 7}, false);
  test_moe(16, 128, 64, 4, 300, {1, 4, 5, 9, 15}, true);  // > one 256-token chunk
  test_moe(8, 64, 32, 2, 4, {}, true);                   // nothing resident: y unchanged
  for (auto [n, d] : {std::pair{1, 1}, {3, 7}, {2, 257}, {1, 7168}, {5, 512}}) test_rmsnorm(n, d);
  for (auto [H, R, P, n_ctx, s] : {std::tuple{1, 64, 16, 1, 0}, {4, 64, 16, 7, 0}, {4, 512, 64, 300, 0},
                                   {2, 512, 64, 1000, 1}, {3, 96, 32, 37, 5}, {2, 64, 16, 5, 9}, {8, 512, 64, quick ? 513 : 4097, 0}})
    test_mla_decode(H, R, P, n_ctx, s);
  // Every cache precision, blocks smaller than a split's chunk and a partial last block.
  for (int dt : {KK_KV_F32, KK_KV_BF16, KK_KV_FP8})
    for (auto [H, R, P, n_ctx, s, B] : {std::tuple{4, 64, 16, 150, 0, 16}, {3, 96, 32, 37, 5, 8},
                                        {8, 512, 64, 300, 2, 64}, {2, 64, 16, 64, 0, 64}, {1, 64, 16, 1, 0, 16}})
      test_mla_decode(H, R, P, n_ctx, s, B, dt);
  test_rope(5, 3, 128, 64, true, 1, 1);
  test_rope(4, 2, 32, 16, true, 1.2, 0.7);  // attention factor != 1
  test_rope(3, 1, 0, 64, false, 1, 1);      // the shared k_pe: one head, rope only
  test_router(7, 16, 4, 1, 1, true, true);
  test_router(5, 384, 8, 1, 1, true, true);
  test_router(6, 64, 6, 8, 3, false, true);  // group limit
  test_router(3, 256, 8, 8, 4, true, false);
  test_sample(3, 1, 0.f);
  test_sample(4, 50001, 0.f);
  test_sample(2, quick ? 4099 : 163840, 0.f);
  test_sample(8, 1000, 0.7f);
  test_sample(3, quick ? 5001 : 50001, 1.3f);
  test_elementwise(1, 1, 1);
  test_elementwise(quick ? 10003 : 100003, 5, 7168);
  test_graph();

  return g_failures;
}

}  // namespace cuda_ops_suite

// moe.cpp — routed experts as one op over stacked weights (mlx-lm SwitchGLU).
//
// 1. Group the (token, slot) pairs by expert, so each expert's weights are read once per call.
// 2. gate+up: tasks are (expert, row grain of gate/up); each computes both projections for all of
//    the expert's tokens on its rows, then silu(g)·u in place.
// 3. down: tasks are (expert, row grain of down), writing one output row per (token, slot) pair.
// 4. y[t] = Σ_k w[t,k] · out[t,k], in slot order (deterministic, no atomics).
// Tasks are handed out dynamically, so a decode step with 8 active experts keeps every thread
// busy whatever the thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "cpu/ops.h"
#include "cpu/weight_view.h"

namespace kk::cpu {

namespace {

thread_local std::vector<float> tls_scratch;

struct ExpertGroup {
  int64_t expert;
  int64_t first;  // index into the pair list of this expert's first pair
  int64_t count;  // tokens routed to it
};

struct Task {
  int32_t group;
  int64_t r0, r1;
};

inline float silu(float v) { return v / (1.f + std::exp(-v)); }

// Runs task_fn(task_index) for every task on the pool with a shared counter.
template <class F>
void run_tasks(ThreadPool* pool, int64_t n_tasks, F task_fn) {
  if (n_tasks <= 0) return;
  std::atomic<int64_t> next{0};
  auto worker = [&](int64_t, int64_t, int) {
    for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n_tasks;) task_fn(i);
  };
  const int threads = pool ? pool->size() : 1;
  if (pool && threads > 1 && n_tasks > 1) pool->parallel_for(std::min<int64_t>(threads, n_tasks), 1, worker);
  else worker(0, 1, 0);
}

std::vector<Task> make_tasks(const std::vector<ExpertGroup>& groups, int64_t rows, int64_t grain) {
  std::vector<Task> tasks;
  for (size_t g = 0; g < groups.size(); ++g)
    for (int64_t r = 0; r < rows; r += grain) tasks.push_back({int32_t(g), r, std::min(rows, r + grain)});
  return tasks;
}

}  // namespace

void moe(const OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& down,
         const float* x, int64_t n, int top_k, const int32_t* ids, const float* weights, float* y,
         const uint8_t* expert_mask) {
  const Kernels& k = ctx.kernels ? *ctx.kernels : kernels_best();
  if (n <= 0 || gate.shape.size() != 3) return;
  const int64_t E = gate.shape[0], inter = gate.shape[1], hidden = gate.shape[2];
  std::fill(y, y + n * hidden, 0.f);
  if (top_k <= 0) return;

  // 1. Pairs grouped by expert (counting sort keeps token order within an expert).
  std::vector<int64_t> count(E + 1, 0);
  const int64_t n_pairs = n * top_k;
  for (int64_t p = 0; p < n_pairs; ++p) {
    const int64_t e = ids[p];
    if (e < 0 || e >= E || (expert_mask && !expert_mask[e])) continue;
    ++count[e + 1];
  }
  for (int64_t e = 0; e < E; ++e) count[e + 1] += count[e];
  const int64_t n_active = count[E];
  if (n_active == 0) return;
  std::vector<int64_t> pair_of(n_active);  // sorted position -> pair index t*top_k+k
  std::vector<int64_t> slot_of(n_pairs, -1);  // pair index -> sorted position
  {
    std::vector<int64_t> fill(count.begin(), count.end() - 1);
    for (int64_t p = 0; p < n_pairs; ++p) {
      const int64_t e = ids[p];
      if (e < 0 || e >= E || (expert_mask && !expert_mask[e])) continue;
      slot_of[p] = fill[e];
      pair_of[fill[e]++] = p;
    }
  }
  std::vector<ExpertGroup> groups;
  for (int64_t e = 0; e < E; ++e)
    if (count[e + 1] > count[e]) groups.push_back({e, count[e], count[e + 1] - count[e]});

  // Gathered activations (one row per sorted pair), fp32 and, in fast mode with Q4, block_q8.
  const bool q8_gate = ctx.fast && is_q4(gate.type) && is_q4(up.type);
  const bool q8_down = ctx.fast && is_q4(down.type);
  std::vector<float> xs(n_active * hidden);
  for (int64_t s = 0; s < n_active; ++s) {
    const float* src = x + (pair_of[s] / top_k) * hidden;
    std::copy(src, src + hidden, xs.begin() + s * hidden);
  }
  std::vector<block_q8> xq;
  if (q8_gate) {
    const int64_t nb = hidden / KK_Q8_GROUP;
    xq.resize(n_active * nb);
    for (int64_t s = 0; s < n_active; ++s) k.quantize_q8(&xs[s * hidden], hidden, &xq[s * nb]);
  }

  // 2. gate and up, then silu(g)·u into g.
  std::vector<float> g(n_active * inter), u(n_active * inter);
  {
    const WeightView g0 = expert_view(gate, 0);
    const std::vector<Task> tasks = make_tasks(groups, inter, row_grain(g0));
    run_tasks(ctx.pool, int64_t(tasks.size()), [&](int64_t i) {
      const Task& tk = tasks[i];
      const ExpertGroup& grp = groups[tk.group];
      const int64_t nb = hidden / KK_Q8_GROUP;
      Activations a{&xs[grp.first * hidden], hidden, q8_gate ? &xq[grp.first * nb] : nullptr};
      float* gy = &g[grp.first * inter];
      float* uy = &u[grp.first * inter];
      matmul_rows(k, expert_view(gate, grp.expert), a, grp.count, gy, inter, tk.r0, tk.r1, tls_scratch);
      matmul_rows(k, expert_view(up, grp.expert), a, grp.count, uy, inter, tk.r0, tk.r1, tls_scratch);
      for (int64_t t = 0; t < grp.count; ++t)
        for (int64_t r = tk.r0; r < tk.r1; ++r) gy[t * inter + r] = silu(gy[t * inter + r]) * uy[t * inter + r];
    });
  }

  // 3. down, one output row per sorted pair.
  std::vector<block_q8> hq;
  if (q8_down) {
    const int64_t nb = inter / KK_Q8_GROUP;
    hq.resize(n_active * nb);
    for (int64_t s = 0; s < n_active; ++s) k.quantize_q8(&g[s * inter], inter, &hq[s * nb]);
  }
  std::vector<float>& out = u;  // u is dead; reuse when it is big enough
  if (int64_t(out.size()) < n_active * hidden) out.resize(n_active * hidden);
  {
    const WeightView d0 = expert_view(down, 0);
    const std::vector<Task> tasks = make_tasks(groups, hidden, row_grain(d0));
    run_tasks(ctx.pool, int64_t(tasks.size()), [&](int64_t i) {
      const Task& tk = tasks[i];
      const ExpertGroup& grp = groups[tk.group];
      const int64_t nb = inter / KK_Q8_GROUP;
      Activations a{&g[grp.first * inter], inter, q8_down ? &hq[grp.first * nb] : nullptr};
      matmul_rows(k, expert_view(down, grp.expert), a, grp.count, &out[grp.first * hidden], hidden,
                  tk.r0, tk.r1, tls_scratch);
    });
  }

  // 4. Weighted sum in slot order.
  for (int64_t t = 0; t < n; ++t) {
    float* yt = y + t * hidden;
    for (int kk = 0; kk < top_k; ++kk) {
      const int64_t p = t * top_k + kk;
      if (slot_of[p] < 0) continue;
      const float w = weights[p];
      const float* o = &out[slot_of[p] * hidden];
      for (int64_t d = 0; d < hidden; ++d) yt[d] += w * o[d];
    }
  }
}

}  // namespace kk::cpu

// moe.cpp — routed experts as one op over stacked weights (mlx-lm SwitchGLU).
//
// 1. Group the (token, slot) pairs by expert, so each expert's weights are read once per call.
// 2. gate+up: tasks are (expert, row grain of gate/up); each computes both projections for all of
//    the expert's tokens on its rows, then silu(g)·u in place.
// 3. down: tasks are row grains of down; each walks every active expert on its rows and adds
//    w[t,k] · down_e(...)[rows] into y[t] (each y element has one owner: no atomics; the sum
//    runs in expert order, deterministic).
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

// The op's big buffers (gathered activations, gate/up/down outputs: hundreds of MB for a long
// prompt), kept by the calling thread across calls and only ever grown. Allocating them per call
// cost more than the expert GEMMs themselves at a 512-token prompt: every call faulted in and
// zeroed ~300 MB of fresh pages (measured with perf: clear_page + memset + page-fault exits).
struct MoeBuffers {
  std::vector<float> xs, g;
  std::vector<block_q8> xq, hq;
};
// Per task: the up projection of its rows, and the down projection of its rows for one expert.
thread_local std::vector<float> tls_task_out;
thread_local MoeBuffers tls_buffers;

// fn(s) for s in [0, n), split over the pool (rows of activations to quantize or gather: at a
// 512-token prompt 4096 rows of 7168, ~0.2 s on one thread).
template <class F>
void for_rows(ThreadPool* pool, int64_t n, F fn) {
  constexpr int64_t kRowsPerGrain = 16;
  auto body = [&](int64_t b, int64_t e, int) { for (int64_t s = b; s < e; ++s) fn(s); };
  if (pool) pool->parallel_for(n, kRowsPerGrain, body);
  else body(0, n, 0);
}

template <class T>
T* grown(std::vector<T>& v, int64_t n) {
  if (int64_t(v.size()) < n) v.resize(n);
  return v.data();
}

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
  {
    std::vector<int64_t> fill(count.begin(), count.end() - 1);
    for (int64_t p = 0; p < n_pairs; ++p) {
      const int64_t e = ids[p];
      if (e < 0 || e >= E || (expert_mask && !expert_mask[e])) continue;
      pair_of[fill[e]++] = p;
    }
  }
  std::vector<ExpertGroup> groups;
  for (int64_t e = 0; e < E; ++e)
    if (count[e + 1] > count[e]) groups.push_back({e, count[e], count[e + 1] - count[e]});

  // Gathered activations (one row per sorted pair): block_q8 in fast mode with Q4 weights
  // (quantized straight from x; the q8 kernels never read the fp32 rows), else fp32.
  MoeBuffers& buf = tls_buffers;
  const bool q8_gate = ctx.fast && is_q4(gate.type) && is_q4(up.type);
  const bool q8_down = ctx.fast && is_q4(down.type);
  const int64_t nbx = hidden / KK_Q8_GROUP;
  float* xs = nullptr;
  block_q8* xq = nullptr;
  if (q8_gate) {
    xq = grown(buf.xq, n_active * nbx);
    for_rows(ctx.pool, n_active, [&](int64_t s) { k.quantize_q8(x + (pair_of[s] / top_k) * hidden, hidden, &xq[s * nbx]); });
  } else {
    xs = grown(buf.xs, n_active * hidden);
    for_rows(ctx.pool, n_active, [&](int64_t s) {
      const float* src = x + (pair_of[s] / top_k) * hidden;
      std::copy(src, src + hidden, xs + s * hidden);
    });
  }

  // 2. gate and up, then silu(g)·u into g.
  float* g = grown(buf.g, n_active * inter);
  {
    const WeightView g0 = expert_view(gate, 0);
    const std::vector<Task> tasks = make_tasks(groups, inter, row_grain(g0));
    run_tasks(ctx.pool, int64_t(tasks.size()), [&](int64_t i) {
      const Task& tk = tasks[i];
      const ExpertGroup& grp = groups[tk.group];
      Activations a{xs ? xs + grp.first * hidden : nullptr, hidden, xq ? xq + grp.first * nbx : nullptr};
      float* gy = g + grp.first * inter;
      const int64_t nr = tk.r1 - tk.r0;
      float* uy = grown(tls_task_out, grp.count * nr) - tk.r0;  // up rows [r0, r1), stride nr
      matmul_rows(k, expert_view(gate, grp.expert), a, grp.count, gy, inter, tk.r0, tk.r1, tls_scratch);
      matmul_rows(k, expert_view(up, grp.expert), a, grp.count, uy, nr, tk.r0, tk.r1, tls_scratch);
      for (int64_t t = 0; t < grp.count; ++t)
        for (int64_t r = tk.r0; r < tk.r1; ++r) gy[t * inter + r] = silu(gy[t * inter + r]) * uy[t * nr + r];
    });
  }

  // 3. down, by row range of the output: a task computes its rows for every active expert in
  // turn and adds them, weighted, into y. Each y element is owned by one task, so no
  // (token, slot) rows are stored (at a 512-token prompt they were 117 MB of fresh pages per
  // call) and no second pass sums them; the sum runs in expert order, deterministic.
  const int64_t nbh = inter / KK_Q8_GROUP;
  block_q8* hq = nullptr;
  if (q8_down) {
    hq = grown(buf.hq, n_active * nbh);
    for_rows(ctx.pool, n_active, [&](int64_t s) { k.quantize_q8(g + s * inter, inter, &hq[s * nbh]); });
  }
  {
    const int64_t grain = row_grain(expert_view(down, 0));
    const int64_t n_tasks = (hidden + grain - 1) / grain;
    run_tasks(ctx.pool, n_tasks, [&](int64_t i) {
      const int64_t r0 = i * grain, r1 = std::min(hidden, r0 + grain), nr = r1 - r0;
      for (const ExpertGroup& grp : groups) {
        Activations a{g + grp.first * inter, inter, hq ? hq + grp.first * nbh : nullptr};
        float* o = grown(tls_task_out, grp.count * nr) - r0;  // rows [r0, r1), stride nr
        matmul_rows(k, expert_view(down, grp.expert), a, grp.count, o, nr, r0, r1, tls_scratch);
        for (int64_t t = 0; t < grp.count; ++t) {
          const int64_t p = pair_of[grp.first + t];
          const float w = weights[p];
          float* yt = y + (p / top_k) * hidden;
          for (int64_t r = r0; r < r1; ++r) yt[r] += w * o[t * nr + r];
        }
      }
    });
  }
}

}  // namespace kk::cpu

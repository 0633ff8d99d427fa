// test_placement.cpp — the GPU expert placement policy and the routing statistics it reads.
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <unistd.h>

#include "placement/placement.h"
#include "placement/routing_stats.h"

using namespace kk::placement;

static int g_failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                            \
    }                                                                          \
  } while (0)
#define CHECK_OK(expr)                                                         \
  do {                                                                         \
    kk::Status _s = (expr);                                                    \
    if (!_s.ok()) {                                                            \
      std::fprintf(stderr, "%s:%d: %s -> %s\n", __FILE__, __LINE__, #expr, _s.message().c_str()); \
      ++g_failures;                                                            \
    }                                                                          \
  } while (0)

// 4 layers, layer 0 dense; 8 experts of 100 bytes; base = 1000 + 200 + 50.
static ModelSizes small_model() {
  ModelSizes s;
  s.non_expert_bytes = 1000;
  s.kv_cache_bytes = 200;
  s.workspace_bytes = 50;
  s.n_experts = 8;
  s.expert_bytes = {0, 100, 100, 100};
  return s;
}
static const int64_t kBase = 1250, kExpert = 100;

// Records `n` tokens routing each to the experts given, in layer l (top_k = ids.size()).
static void route(RoutingStats* st, int l, std::vector<int32_t> ids, int n) {
  std::vector<int32_t> all;
  for (int t = 0; t < n; ++t) all.insert(all.end(), ids.begin(), ids.end());
  CHECK_OK(st->record(l, all.data(), n, int(ids.size())));
}

static void test_budget_edges() {
  const ModelSizes s = small_model();
  RoutingStats none;
  Plan p;
  CHECK_OK(plan_placement(s, 0, none, {}, &p));
  CHECK(!p.non_expert_on_gpu && p.count() == 0 && p.bytes_non_expert == 0);
  CHECK_OK(plan_placement(s, kBase - 1, none, {}, &p));
  CHECK(!p.non_expert_on_gpu && p.count() == 0);
  CHECK_OK(plan_placement(s, kBase, none, {}, &p));
  CHECK(p.non_expert_on_gpu && p.count() == 0 && p.bytes_non_expert == kBase && p.bytes_experts == 0);
  CHECK_OK(plan_placement(s, kBase + 24 * kExpert, none, {}, &p));
  CHECK(p.count() == 24 && p.count_layer(0) == 0 && std::fabs(p.gpu_traffic_share - 1.0) < 1e-12);
  CHECK_OK(plan_placement(s, int64_t(1) << 40, none, {}, &p));
  CHECK(p.count() == 24 && p.bytes_experts == 24 * kExpert);
  CHECK_OK(plan_placement(s, kBase + 5 * kExpert - 1, none, {}, &p));  // one byte short of the 5th
  CHECK(p.count() == 4 && p.bytes_experts == 4 * kExpert);
  CHECK_OK(plan_placement(s, kBase + 5 * kExpert, none, {}, &p));
  CHECK(p.count() == 5);
}

static void test_flat_statistics() {
  const ModelSizes s = small_model();
  // No observations and observations that are exactly flat must both spread evenly.
  RoutingStats empty, flat(4, 8);
  for (int l = 1; l < 4; ++l) route(&flat, l, {0, 1, 2, 3, 4, 5, 6, 7}, 10);
  for (const RoutingStats* st : {&empty, &flat}) {
    Plan p;
    CHECK_OK(plan_placement(s, kBase + 6 * kExpert, *st, {}, &p));
    CHECK(p.count() == 6);
    for (int l = 1; l < 4; ++l) CHECK(p.count_layer(l) == 2 && p.resident(l, 0) && p.resident(l, 1));
    CHECK(std::fabs(p.gpu_traffic_share - 0.25) < 1e-9);  // 2 of 8 equally used experts per layer
  }
}

static void test_skewed_statistics() {
  const ModelSizes s = small_model();
  RoutingStats st(4, 8);
  route(&st, 1, {3, 4, 6}, 100);     // layer 1: three experts take all traffic
  route(&st, 2, {0, 1, 2, 3, 4, 5, 6, 7}, 100);  // layer 2: flat
  route(&st, 3, {0, 1, 2, 5}, 100);  // layer 3: four experts
  Plan p;
  CHECK_OK(plan_placement(s, kBase + 3 * kExpert, st, {}, &p));
  // Global greedy: layer 1's three hot experts (share 1/3 each) beat layer 3's (1/4) and layer 2's (1/8).
  CHECK(p.count() == 3 && p.resident(1, 3) && p.resident(1, 4) && p.resident(1, 6));
  CHECK_OK(plan_placement(s, kBase + 7 * kExpert, st, {}, &p));
  CHECK(p.count_layer(1) == 3 && p.count_layer(3) == 4 && p.count_layer(2) == 0);
  for (int e : {0, 1, 2, 5}) CHECK(p.resident(3, e));
  // The greedy serves at least as much traffic as the same number of experts spread per layer.
  Plan fixed;
  Options fo;
  fo.mode = Mode::kFixedTopN;
  fo.top_n_per_layer = 2;
  CHECK_OK(plan_placement(s, kBase + 6 * kExpert, st, fo, &fixed));
  CHECK_OK(plan_placement(s, kBase + 6 * kExpert, st, {}, &p));
  CHECK(fixed.count() == 6 && p.count() == 6);
  CHECK(p.gpu_traffic_share > fixed.gpu_traffic_share);
}

static void test_fixed_and_none() {
  const ModelSizes s = small_model();
  RoutingStats st(4, 8);
  route(&st, 1, {7, 6}, 50);
  route(&st, 1, {5}, 10);
  route(&st, 2, {2, 3}, 50);
  route(&st, 3, {1, 0}, 50);
  Options fo;
  fo.mode = Mode::kFixedTopN;
  fo.top_n_per_layer = 2;
  Plan p;
  CHECK_OK(plan_placement(s, int64_t(1) << 40, st, fo, &p));
  CHECK(p.count() == 6 && p.resident(1, 7) && p.resident(1, 6) && p.resident(2, 2) && p.resident(2, 3) &&
        p.resident(3, 0) && p.resident(3, 1));
  // A budget for 4: every layer's first, then layer 1's second (round-robin by rank).
  CHECK_OK(plan_placement(s, kBase + 4 * kExpert, st, fo, &p));
  CHECK(p.count() == 4 && p.count_layer(1) == 2 && p.count_layer(2) == 1 && p.count_layer(3) == 1);
  fo.top_n_per_layer = 100;  // more than exist: all
  CHECK_OK(plan_placement(s, int64_t(1) << 40, st, fo, &p));
  CHECK(p.count() == 24);
  Options none;
  none.mode = Mode::kNone;
  CHECK_OK(plan_placement(s, int64_t(1) << 40, st, none, &p));
  CHECK(p.non_expert_on_gpu && p.count() == 0 && p.gpu_traffic_share == 0);
  fo.top_n_per_layer = -1;
  CHECK(!plan_placement(s, 1 << 20, st, fo, &p).ok());
}

static RoutingStats zipf_stats(int L, int E, double skew, uint64_t seed, int tokens) {
  RoutingStats st(L, E);
  std::mt19937_64 rng(seed);
  std::vector<double> w(E);
  for (int l = 1; l < L; ++l) {
    std::vector<int> perm(E);
    for (int e = 0; e < E; ++e) perm[e] = e;
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int e = 0; e < E; ++e) w[perm[e]] = 1.0 / std::pow(e + 1.0, skew);
    std::discrete_distribution<int> pick(w.begin(), w.end());
    std::vector<int32_t> ids(size_t(tokens) * 8);
    for (auto& id : ids) id = pick(rng);
    CHECK_OK(st.record(l, ids.data(), tokens, 8));
  }
  return st;
}

static void test_determinism_and_k2_scale() {
  // Kimi K2: 61 layers (first dense), 384 experts of 3 × 2048 × 7168 INT4 weights (18 B / 32).
  ModelSizes s;
  s.non_expert_bytes = int64_t(21) << 30;
  s.kv_cache_bytes = int64_t(8192) * 61 * 576 * 2;
  s.workspace_bytes = int64_t(1) << 30;
  s.n_experts = 384;
  const int64_t eb = 3 * (int64_t(2048) * 7168 / 32 * 18);
  s.expert_bytes.assign(61, eb);
  s.expert_bytes[0] = 0;
  const RoutingStats st = zipf_stats(61, 384, 1.0, 7, 400);
  const int64_t budget = int64_t(78) << 30;
  Plan a, b;
  CHECK_OK(plan_placement(s, budget, st, {}, &a));
  CHECK_OK(plan_placement(s, budget, st, {}, &b));
  CHECK(a.on_gpu == b.on_gpu && a.gpu_traffic_share == b.gpu_traffic_share);
  const int64_t room = budget - s.non_expert_bytes - s.kv_cache_bytes - s.workspace_bytes;
  CHECK(a.count() == int(room / eb) && a.bytes_experts <= room);
  const double expert_fraction = double(a.count()) / (60.0 * 384);
  // Skewed routing: the hot experts serve far more than their count share of the traffic.
  CHECK(a.gpu_traffic_share > 1.5 * expert_fraction);
  std::printf("k2: %d experts on GPU (%.1f%% of experts) serve %.1f%% of expert traffic\n", a.count(),
              100 * expert_fraction, 100 * a.gpu_traffic_share);
  // No resident expert is less used than a non-resident one of its own layer.
  for (int l = 1; l < 61; ++l) {
    double min_in = 1e9, max_out = -1;
    for (int e = 0; e < 384; ++e) {
      if (a.resident(l, e)) min_in = std::min(min_in, st.share(l, e));
      else max_out = std::max(max_out, st.share(l, e));
    }
    if (a.count_layer(l) > 0 && a.count_layer(l) < 384) CHECK(min_in >= max_out);
  }
}

static void apply(Plan* p, const Delta& d) {
  for (auto& r : d.evict) { CHECK(p->resident(r.layer, r.expert)); p->on_gpu[size_t(r.layer) * p->n_experts + r.expert] = 0; }
  for (auto& r : d.upload) { CHECK(!p->resident(r.layer, r.expert)); p->on_gpu[size_t(r.layer) * p->n_experts + r.expert] = 1; }
}

static void test_replacement() {
  const ModelSizes s = small_model();
  RoutingStats st(4, 8);
  route(&st, 1, {0, 1}, 100);
  route(&st, 2, {2, 3}, 100);
  route(&st, 3, {4, 5}, 100);
  const int64_t budget = kBase + 4 * kExpert;
  Plan cur;
  CHECK_OK(plan_placement(s, budget, st, {}, &cur));
  CHECK(cur.count() == 4);

  // Same statistics: nothing moves. Small drift: nothing moves (hysteresis).
  Delta d;
  CHECK_OK(plan_replacement(s, budget, st, {}, {}, cur, &d));
  CHECK(d.upload.empty() && d.evict.empty() && d.next.on_gpu == cur.on_gpu);
  RoutingStats drift = st;
  route(&drift, 2, {3}, 10);  // layer 2 expert 3 becomes a bit hotter than layer 1's second expert
  Plan ideal;
  CHECK_OK(plan_placement(s, budget, drift, {}, &ideal));
  CHECK(ideal.on_gpu != cur.on_gpu);  // a fresh plan would churn...
  CHECK_OK(plan_replacement(s, budget, drift, {}, {}, cur, &d));
  CHECK(d.upload.empty() && d.evict.empty());  // ...re-placement does not

  // A big shift: layer 3 expert 7 becomes the hottest expert of all; one swap, cheapest victim.
  RoutingStats shift = st;
  route(&shift, 3, {7, 7, 7, 7}, 200);
  CHECK_OK(plan_replacement(s, budget, shift, {}, {}, cur, &d));
  CHECK(d.upload.size() == 1 && d.upload[0] == (ExpertRef{3, 7}));
  CHECK(d.evict.size() == 1);
  Plan applied = cur;
  apply(&applied, d);
  CHECK(applied.on_gpu == d.next.on_gpu && d.next.count() == 4);
  CHECK(d.next.bytes_experts + d.next.bytes_non_expert <= budget);
  CHECK(d.next.gpu_traffic_share > cur.gpu_traffic_share);
  // The victim was the least used resident under the new statistics.
  for (int l = 1; l < 4; ++l)
    for (int e = 0; e < 8; ++e)
      if (applied.resident(l, e)) CHECK(shift.share(l, e) >= shift.share(d.evict[0].layer, d.evict[0].expert));

  // Budget shrinks by two experts: two forced evictions, no upload.
  CHECK_OK(plan_replacement(s, budget - 2 * kExpert, st, {}, {}, cur, &d));
  CHECK(d.evict.size() == 2 && d.upload.empty() && d.next.count() == 2);
  // Budget grows: uploads into free space, no eviction; an upload cap limits them.
  CHECK_OK(plan_replacement(s, budget + 3 * kExpert, st, {}, {}, cur, &d));
  CHECK(d.evict.empty() && d.upload.size() == 3 && d.next.count() == 7);
  ReplaceOptions capped;
  capped.max_upload_bytes = 2 * kExpert;
  CHECK_OK(plan_replacement(s, budget + 3 * kExpert, st, {}, capped, cur, &d));
  CHECK(d.upload.size() == 2);
  // The base no longer fits: every expert goes.
  CHECK_OK(plan_replacement(s, kBase - 1, st, {}, {}, cur, &d));
  CHECK(!d.next.non_expert_on_gpu && d.next.count() == 0 && d.evict.size() == 4);
  // Comparison modes move exactly to their rule.
  Options none;
  none.mode = Mode::kNone;
  CHECK_OK(plan_replacement(s, budget, st, none, {}, cur, &d));
  CHECK(d.evict.size() == 4 && d.upload.empty() && d.next.count() == 0);
  // Shape mismatch is an error, not a crash.
  Plan wrong = cur;
  wrong.n_experts = 7;
  CHECK(!plan_replacement(s, budget, st, {}, {}, wrong, &d).ok());
}

static void test_replacement_converges() {
  // Repeated re-placement under slowly drifting statistics settles and never exceeds the budget.
  ModelSizes s = small_model();
  s.n_experts = 32;
  RoutingStats st = zipf_stats(4, 32, 1.2, 3, 300);
  const int64_t budget = kBase + 20 * kExpert;
  Plan cur;
  CHECK_OK(plan_placement(s, budget, st, {}, &cur));
  size_t moves_late = 0;
  for (int round = 0; round < 30; ++round) {
    std::mt19937_64 rng(100 + round);
    std::uniform_int_distribution<int> pick(0, 31);
    std::vector<int32_t> ids(8);
    for (auto& id : ids) id = pick(rng);
    CHECK_OK(st.record(1 + round % 3, ids.data(), 1, 8));
    Delta d;
    CHECK_OK(plan_replacement(s, budget, st, {}, {}, cur, &d));
    CHECK(d.next.bytes_experts + d.next.bytes_non_expert <= budget);
    if (round >= 10) moves_late += d.upload.size() + d.evict.size();
    cur = d.next;
  }
  CHECK(moves_late == 0);
}

static void test_routing_stats() {
  RoutingStats st(3, 4, 100.0);
  std::vector<int32_t> ids = {0, 1, 0, 2};  // 2 tokens, top-2
  CHECK_OK(st.record(1, ids.data(), 2, 2));
  CHECK(st.count(1, 0) == 2 && st.count(1, 1) == 1 && st.count(1, 3) == 0 && st.tokens(1) == 2);
  double sum = 0;
  for (int e = 0; e < 4; ++e) sum += st.share(1, e);
  CHECK(std::fabs(sum - 1) < 1e-12);
  CHECK(st.share(1, 0) > st.share(1, 1) && st.share(1, 1) > st.share(1, 3));
  CHECK(std::fabs(st.share(0, 2) - 0.25) < 1e-12);  // untouched layer: flat
  // Decay: 100 tokens (one half-life) routed elsewhere halve expert 0's count.
  std::vector<int32_t> other(100, 3);
  CHECK_OK(st.record(1, other.data(), 100, 1));
  CHECK(std::fabs(st.count(1, 0) - 1.0) < 1e-12 && std::fabs(st.count(1, 3) - 100) < 1e-12);
  // Bad input is an error and records nothing.
  std::vector<int32_t> bad = {0, 4};
  CHECK(!st.record(1, bad.data(), 1, 2).ok());
  CHECK(!st.record(3, ids.data(), 1, 2).ok());
  CHECK(std::fabs(st.count(1, 0) - 1.0) < 1e-12);

  // Save / load round trip; refuses another model's file and damaged files.
  const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                           "/kk_test_routing_stats_" + std::to_string(getpid()) + ".bin";
  CHECK_OK(st.save(path, "model-A"));
  RoutingStats back;
  CHECK_OK(RoutingStats::load(path, "model-A", &back));
  CHECK(back.n_layers() == 3 && back.n_experts() == 4 && back.half_life_tokens() == 100.0);
  for (int l = 0; l < 3; ++l) {
    CHECK(back.tokens(l) == st.tokens(l));
    for (int e = 0; e < 4; ++e) CHECK(back.count(l, e) == st.count(l, e));
  }
  CHECK(!RoutingStats::load(path, "model-B", &back).ok());
  CHECK(!RoutingStats::load(path + ".missing", "model-A", &back).ok());
  FILE* f = std::fopen(path.c_str(), "r+b");
  CHECK(f != nullptr);
  if (f) {
    std::fseek(f, 0, SEEK_END);
    long n = std::ftell(f);
    std::fclose(f);
    CHECK(truncate(path.c_str(), n - 3) == 0);
    CHECK(!RoutingStats::load(path, "model-A", &back).ok());
  }
  std::remove(path.c_str());
  CHECK(RoutingStats::file_name_for("a") != RoutingStats::file_name_for("b"));
  CHECK(RoutingStats::file_name_for("a") == RoutingStats::file_name_for("a"));

  // Stats of the wrong shape are rejected by the planner.
  Plan p;
  CHECK(!plan_placement(small_model(), 1 << 20, st, {}, &p).ok());
}

// The hot set at load (what the CUDA backend uploads first): from statistics saved for the model
// and read back from the file, the used experts of every layer; from none, spread evenly over the
// MoE layers; never any expert of a layer past the MoE ones.
static void test_hot_set() {
  constexpr int kLayers = 8, kExperts = 16, kMoe = 3;
  constexpr int64_t kBytes = 300;
  RoutingStats saved(kLayers, kExperts);
  route(&saved, 0, {3, 7}, 10);
  route(&saved, 1, {5}, 10);
  route(&saved, 2, {1, 2, 9}, 10);
  char path[] = "/tmp/kk-hotset-XXXXXX";
  const int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd >= 0) close(fd);
  CHECK_OK(saved.save(path, "model-a"));
  RoutingStats loaded;
  CHECK_OK(RoutingStats::load(path, "model-a", &loaded));
  RoutingStats other;
  CHECK(!RoutingStats::load(path, "model-b", &other).ok());  // another model's file: refused
  unlink(path);

  Plan p;
  CHECK_OK(plan_hot_set(kMoe, kBytes, 6 * kBytes, loaded, &p));
  const std::vector<std::pair<int, int>> want = {{0, 3}, {0, 7}, {1, 5}, {2, 1}, {2, 2}, {2, 9}};
  CHECK(p.count() == 6);
  for (auto [l, e] : want) CHECK(p.resident(l, e));
  // A short budget keeps the most used: layer 1's expert 5 (all of its layer's decisions) first.
  CHECK_OK(plan_hot_set(kMoe, kBytes, 1 * kBytes, loaded, &p));
  CHECK(p.count() == 1 && p.resident(1, 5));

  RoutingStats none(kLayers, kExperts);
  CHECK_OK(plan_hot_set(kMoe, kBytes, 7 * kBytes + kBytes / 2, none, &p));
  CHECK(p.count() == 7);
  for (int l = 0; l < kMoe; ++l) CHECK(p.count_layer(l) == 2 || p.count_layer(l) == 3);
  for (int l = kMoe; l < kLayers; ++l) CHECK(p.count_layer(l) == 0);
  CHECK(!plan_hot_set(kLayers + 1, kBytes, kBytes, none, &p).ok());
  CHECK(!plan_hot_set(kMoe, 0, kBytes, none, &p).ok());
}

int main() {
  test_hot_set();
  test_budget_edges();
  test_flat_statistics();
  test_skewed_statistics();
  test_fixed_and_none();
  test_determinism_and_k2_scale();
  test_replacement();
  test_replacement_converges();
  test_routing_stats();
  if (g_failures) {
    std::fprintf(stderr, "test_placement: %d failure(s)\n", g_failures);
    return 1;
  }
  std::printf("test_placement: all passed\n");
  return 0;
}

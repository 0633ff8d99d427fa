// test_engine_sessions.cpp — engine sessions on tiny-k2 (exact mode): the next-token logits after
// a prefix-cache hit equal a fresh prefill of the same tokens (next turn of one conversation, two
// conversations sharing a document, a divergence in the middle of a block, whose shared block the
// first conversation still reads unchanged); a KV snapshot restored into a fresh engine gives the
// logits of a fresh prefill; snapshots of another model, another prefix, with a flipped byte or
// truncated are refused with a message saying which, and the prompt is then prefilled correctly;
// a randomized scheduler run (requests joining, finishing and cancelled at random, 200+ steps)
// gives every request the greedy tokens it gets alone, and the pool's accounting returns to empty.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include "engine/engine_impl.h"
#include "test_util.h"
#include "engine_test_util.h"

using namespace kk;
using namespace kk_test;

namespace {

// `karakoram eval`'s exact-mode logit bound (native/src/harness/eval.cpp, kExact.logit): a prefix
// hit must be as good as a fresh prefill by the measure every backend is held to.
constexpr double kExactLogitTol = 2e-3;
// Randomized scheduler run: at least this many steps, requests of up to kMaxPrompt tokens.
constexpr int kSchedulerSteps = 220;
constexpr int kMaxPrompt = 150;
constexpr double kCancelChance = 0.2;  // per step: cancel a random request (if not done)

void check_hit(const char* what, EngineImpl& e, const std::vector<int32_t>& ids, int64_t want_cached) {
  int64_t cached = -1;
  const auto hit = cached_logits(e, ids, &cached);
  const auto fresh = fresh_logits(e, ids);
  const double err = max_abs(hit, fresh);
  std::printf("  %-44s cached %4lld of %4zu tokens, max |logit diff| vs fresh prefill %.3e\n", what,
              (long long)cached, ids.size(), err);
  CHECK(cached == want_cached, "%s: cached %lld tokens, expected %lld", what, (long long)cached, (long long)want_cached);
  CHECK(err <= kExactLogitTol, "%s: logits after the hit differ from a fresh prefill by %.3e", what, err);
}

bool pool_empty(EngineImpl& e) {
  return e.with_pool([](const KvPool& p) { return p.blocks().n_free() == p.blocks().n_blocks() && p.n_sequences() == 0; });
}

// --- prefix hits -------------------------------------------------------------------------------
void test_prefix_hits(EngineImpl& e, std::mt19937& rng) {
  const int V = e.info().vocab;
  e.clear_cache();
  // Next turn of one conversation: turn 1 is answered through generate (so its prompt and its
  // answer are cached), turn 2 = turn 1 + answer + a new user message.
  const auto turn1 = random_ids(rng, 150, V);
  SamplingParams sp;
  sp.max_tokens = 12;
  GenerateResult g;
  CHECK(e.generate(turn1, sp, nullptr, &g).ok() && g.output_ids.size() == 12, "turn 1");
  CHECK(g.cached_tokens == 0, "turn 1 starts cold: %d", g.cached_tokens);
  const auto turn2 = cat(cat(turn1, g.output_ids), random_ids(rng, 30, V));
  // The last answer token was sampled but never fed, so the cache holds turn1 + answer[0..11).
  check_hit("next turn of one conversation", e, turn2, int64_t(turn1.size() + g.output_ids.size() - 1));

  // Two conversations sharing a 200-token document (questions that differ from their first token).
  const auto doc = random_ids(rng, 200, V);
  auto q1 = random_ids(rng, 25, V), q2 = random_ids(rng, 25, V);
  q2[0] = q1[0] == 3 ? 4 : 3;
  int64_t cached = -1;
  cached_logits(e, cat(doc, q1), &cached);
  check_hit("two conversations sharing a document", e, cat(doc, q2), 200);

  // A divergence in the middle of a block (token 100 of the second 64-token block): the hit copies
  // that block on write; the first prompt, which still owns the cached block, reads it unchanged.
  const auto a = random_ids(rng, 160, V);
  auto b = a;
  for (size_t i = 100; i < b.size(); ++i) b[i] = 3 + (b[i] + 11) % (V - 3);
  cached_logits(e, a, &cached);
  const auto a_before = fresh_logits(e, a);
  check_hit("divergence in the middle of a block", e, b, 100);
  check_hit("the first prompt after the other's copy-on-write", e, a, int64_t(a.size()) - 1);
  CHECK(max_abs(fresh_logits(e, a), a_before) == 0, "the first prompt's logits are unchanged");
  e.clear_cache();
  CHECK(pool_empty(e), "pool empty after clear_cache");
}

// --- snapshots ---------------------------------------------------------------------------------
std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
void write_file(const std::string& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(data.data(), std::streamsize(data.size()));
}

// A refused snapshot: the message says why, nothing is restored, and the prompt is then prefilled
// from scratch with the logits of a fresh prefill.
void check_refused(const char* what, EngineImpl& e, const std::string& path, const std::vector<int32_t>& prompt,
                   const char* expect) {
  e.clear_cache();
  int64_t restored = -1;
  const Status st = e.restore_snapshot(path, prompt, &restored);
  std::printf("  refused (%s): %s\n", what, st.message().c_str());
  CHECK(!st.ok() && st.message().find(expect) != std::string::npos, "%s: expected a refusal naming '%s', got '%s'",
        what, expect, st.message().c_str());
  CHECK(restored == 0 && e.cache_stats().cached_tokens == 0, "%s: nothing restored", what);
  int64_t cached = -1;
  const auto recomputed = cached_logits(e, prompt, &cached);
  CHECK(cached == 0 && max_abs(recomputed, fresh_logits(e, prompt)) <= kExactLogitTol,
        "%s: the prompt is prefilled again correctly (cached %lld)", what, (long long)cached);
  e.clear_cache();
}

void test_snapshots(const std::string& dir, const LoadOptions& lo, std::mt19937& rng) {
  char tmpl[] = "/tmp/kk_snapshot_XXXXXX";
  const std::string tmp = mkdtemp(tmpl);
  const std::string path = tmp + "/conv.kvsnap";
  auto e1 = load_engine(dir, lo);
  const int V = e1->info().vocab;
  const auto prefix = random_ids(rng, 180, V);  // 2 whole blocks and a partial one
  const auto prompt = cat(prefix, random_ids(rng, 20, V));
  int64_t cached = -1, saved = -1;
  cached_logits(*e1, prefix, &cached);
  CHECK(e1->save_snapshot(prompt, path, &saved).ok() && saved == int64_t(prefix.size()),
        "save: %lld tokens", (long long)saved);
  e1.reset();  // the app restarts

  auto e2 = load_engine(dir, lo);
  int64_t restored = -1;
  const Status st = e2->restore_snapshot(path, prompt, &restored);
  CHECK(st.ok() && restored == saved, "restore: %s (%lld tokens)", st.message().c_str(), (long long)restored);
  // A read, not a recompute: the restored tokens come out of the prefix cache.
  check_hit("restored snapshot", *e2, prompt, saved);

  const std::string good = read_file(path);
  auto other_prompt = prompt;
  other_prompt[50] = 3 + (other_prompt[50] + 1) % (V - 3);
  check_refused("another prefix", *e2, path, other_prompt, "another prefix");
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  write_file(path, flipped);
  check_refused("a flipped byte", *e2, path, prompt, "corrupted");
  write_file(path, good.substr(0, good.size() - 1000));
  check_refused("a truncated file", *e2, path, prompt, "truncated");
  write_file(path, good);
  CHECK(e2->restore_snapshot(path, prompt, &restored).ok(), "the intact file restores again");
  e2->clear_cache();
  CHECK(pool_empty(*e2), "pool empty after the snapshot checks");
  e2.reset();
  // Another model: the same checkpoint in fast mode (its cache holds other numbers) and the demo
  // model (another checkpoint) both refuse it by fingerprint.
  LoadOptions fast = lo;
  fast.mode = "fast";
  auto ef = load_engine(dir, fast);
  check_refused("another mode", *ef, path, prompt, "another model");
  ef.reset();
  const std::string demo = shared_dir() + "/models/demo-k2";
  if (exists(demo + "/config.json")) {
    auto ed = load_engine(demo, lo);
    CHECK(ed->info().vocab >= V, "the demo model's vocabulary holds tiny-k2's ids");
    check_refused("another model", *ed, path, prompt, "another model");
  }
  std::remove(path.c_str());
  rmdir(tmp.c_str());
}

// --- randomized scheduler ----------------------------------------------------------------------
struct Run {
  Engine::Request req;
  Engine::RequestId id = 0;
  std::vector<int32_t> tokens;
  bool done = false, cancel_sent = false;
  Status status;
  GenerateResult res;
};

void test_scheduler(const std::string& dir, const LoadOptions& lo, std::mt19937& rng) {
  LoadOptions so = lo;
  so.max_sequences = 4;  // more requests than room: some wait
  so.prefill_chunk = 48; // long prompts take several steps, interleaved with the decodes
  auto e = load_engine(dir, so);
  auto ref = load_engine(dir, lo);
  e->scheduler().set_threaded(false);  // the test drives the steps
  const int V = e->info().vocab;
  const auto shared_doc = random_ids(rng, 100, V);  // some prompts share it (prefix hits mid-run)
  std::vector<std::unique_ptr<Run>> runs;
  std::uniform_real_distribution<double> u(0, 1);
  int steps = 0, cancels = 0, hits = 0;
  while (steps < kSchedulerSteps || e->scheduler().running() + e->scheduler().waiting() > 0) {
    if (steps < kSchedulerSteps && u(rng) < 0.3) {
      auto r = std::make_unique<Run>();
      const int n = 1 + int(rng() % kMaxPrompt);
      r->req.prompt = u(rng) < 0.4 ? cat(shared_doc, random_ids(rng, n / 4 + 1, V)) : random_ids(rng, n, V);
      r->req.sampling.max_tokens = 1 + int(rng() % 12);
      if (u(rng) < 0.3) r->req.sampling.stop_ids = {int32_t(3 + rng() % (V - 3))};
      r->req.priority = int(rng() % 3);
      Run* p = r.get();
      Engine::Callbacks cb;
      cb.on_token = [p](int32_t t) { p->tokens.push_back(t); return true; };
      cb.on_done = [p](const Status& st, const GenerateResult& res) { p->done = true; p->status = st; p->res = res; };
      CHECK(e->submit(r->req, std::move(cb), &r->id).ok(), "submit");
      runs.push_back(std::move(r));
    }
    if (!runs.empty() && u(rng) < kCancelChance) {
      Run* r = runs[rng() % runs.size()].get();
      if (!r->done) { e->cancel(r->id); r->cancel_sent = true; ++cancels; }
    }
    e->scheduler().step();
    ++steps;
    CHECK(steps < 20 * kSchedulerSteps, "the scheduler drains");
    if (steps >= 20 * kSchedulerSteps) break;
  }
  int compared = 0, cancelled = 0;
  for (auto& r : runs) {
    CHECK(r->done && r->status.ok(), "request %lld done: %s", (long long)r->id, r->status.message().c_str());
    CHECK(r->tokens == r->res.output_ids, "request %lld: streamed tokens are the result's", (long long)r->id);
    hits += r->res.cached_tokens > 0;
    // The same request alone, on an engine with nothing cached.
    ref->clear_cache();
    GenerateResult alone;
    CHECK(ref->generate(r->req.prompt, r->req.sampling, nullptr, &alone).ok(), "alone");
    if (r->res.finish_reason == "cancelled") {
      ++cancelled;
      CHECK(r->res.output_ids.size() <= alone.output_ids.size() &&
                std::equal(r->res.output_ids.begin(), r->res.output_ids.end(), alone.output_ids.begin()),
            "request %lld (cancelled after %zu tokens): a prefix of its tokens alone", (long long)r->id,
            r->res.output_ids.size());
    } else {
      CHECK(r->res.output_ids == alone.output_ids && r->res.finish_reason == alone.finish_reason,
            "request %lld: %zu tokens (%s) in the batch, %zu (%s) alone", (long long)r->id, r->res.output_ids.size(),
            r->res.finish_reason.c_str(), alone.output_ids.size(), alone.finish_reason.c_str());
      ++compared;
    }
  }
  std::printf("  scheduler: %d steps, %zu requests (%d finished compared, %d cancelled of %d cancel calls, %d prefix hits)\n",
              steps, runs.size(), compared, cancelled, cancels, hits);
  CHECK(steps >= kSchedulerSteps && compared > 10 && hits > 0, "a meaningful run");
  e->clear_cache();
  CHECK(pool_empty(*e), "pool empty after the run");
}

}  // namespace

int main() {
  const std::string dir = shared_dir() + "/fixtures/tiny-k2";
  if (!exists(dir + "/config.json")) { std::printf("skip: no %s\n", dir.c_str()); return KK_TEST_SKIP; }
  LoadOptions lo;
  lo.mode = "exact";
  lo.threads = 2;
  lo.kv_budget_bytes = int64_t(64) << 20;
  std::mt19937 rng(20261204);
  {
    auto e = load_engine(dir, lo);
    test_prefix_hits(*e, rng);
  }
  test_snapshots(dir, lo, rng);
  test_scheduler(dir, lo, rng);
  return kk_test::finish("test_engine_sessions");
}

// test_kv_fuzz.cpp — random operations on the paged KV cache (run under AddressSanitizer by the
// `asan` test step, which also reports leaks):
//  1. the KV pool alone, 10,000 operations (new sequence from a cached prefix, extend, fork,
//     release with or without caching, evict, snapshot out and back in, clear) on a pool small
//     enough to run out: every live sequence's rows always hold what was written for its tokens
//     (a shared or evicted block is never another sequence's data), a refused extension changes
//     nothing, and the accounting returns to empty;
//  2. the engine on tiny-k2, 10,000 operations (submit, cancel, scheduler step, fork, forward,
//     free, evict, snapshot save and restore) on a pool of a few blocks: no crash, every request
//     finishes exactly once, the pool returns to empty.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include "engine/engine_impl.h"
#include "engine/kv_pool.h"
#include "engine/snapshot.h"
#include "test_util.h"

using namespace kk;

namespace {

constexpr int kOps = 10000;
// Part 1: a pool of kPoolBlocks blocks of kPoolBlockTokens tokens (small, so it runs out often).
constexpr int kPoolLayers = 2, kPoolRow = 8, kPoolBlockTokens = 4, kPoolBlocks = 128;
// Part 2: tiny-k2 with a pool of kEngineBlocks 64-token blocks.
constexpr int kEngineBlocks = 6;

std::string shared_dir() {
  if (const char* s = std::getenv("KK_SHARED")) return s;
  return "../shared";
}
bool exists(const std::string& p) { struct stat st; return stat(p.c_str(), &st) == 0; }

// What row (layer l, token t) of a sequence must hold: a function of the tokens up to t (as a
// model's KV is), so sequences sharing a prefix share rows, and any other content is wrong.
float row_value(const std::vector<int32_t>& toks, int64_t t, int l, int j) {
  uint64_t h = fnv1a64(toks.data(), size_t(t + 1) * sizeof(int32_t));
  h = h * 31 + uint64_t(l) * 7 + uint64_t(j);
  return float(h % 1000003);
}

// The pool is fp32 here (exact row-content checks): a row is its floats in place.
float* f32_row(const KvView& v, int l, int64_t t) { return reinterpret_cast<float*>(v.row_ptr(l, t)); }

class PoolFuzz {
 public:
  explicit PoolFuzz(std::mt19937* rng) : rng_(*rng) {}
  void run() {
    const int64_t block_bytes = 4096;  // one page: kPoolLayers·kPoolBlockTokens·kPoolRow floats fit in it
    CHECK(pool_.init(kPoolBlocks * block_bytes, kPoolLayers, kPoolRow, KK_KV_F32, kPoolBlockTokens).ok(), "init");
    CHECK(pool_.blocks().n_blocks() == kPoolBlocks, "%lld blocks", (long long)pool_.blocks().n_blocks());
    for (int i = 0; i < 6; ++i) docs_.push_back(random_tokens(3 + int(rng_() % 20)));
    std::map<std::string, int> counts;
    for (int op = 0; op < kOps; ++op) {
      const int r = int(rng_() % 100);
      if (r < 15) counts["new"] += open_seq();
      else if (r < 42) counts["extend"] += extend();
      else if (r < 48) counts["fork"] += fork();
      else if (r < 72) counts["release"] += release();
      else if (r < 78) counts["evict"] += evict();
      else if (r < 84) counts["snapshot"] += snapshot();
      else if (r < 85) { pool_.clear_cache(); counts["clear"]++; }
      else verify_all(), counts["verify"]++;
    }
    verify_all();
    for (auto& [seq, toks] : live_) pool_.release(seq);
    live_.clear();
    pool_.clear_cache();
    std::printf("  pool fuzz: %d ops (", kOps);
    for (auto& [k, v] : counts) std::printf("%s %d, ", k.c_str(), v);
    std::printf("refused extensions %d)\n", refused_);
    CHECK(pool_.blocks().n_free() == pool_.blocks().n_blocks() && pool_.cached_tokens() == 0 &&
              pool_.n_sequences() == 0, "pool back to empty: %lld of %lld free", (long long)pool_.blocks().n_free(),
          (long long)pool_.blocks().n_blocks());
    CHECK(refused_ > 0, "the pool ran out at least once");
  }

 private:
  std::vector<int32_t> random_tokens(int n) {
    std::vector<int32_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = int32_t(rng_() % 50);  // a small alphabet: many shared prefixes
    return v;
  }
  int32_t pick() {
    auto it = live_.begin();
    std::advance(it, rng_() % live_.size());
    return it->first;
  }
  // Writes rows [len, len+n) for new tokens (after a successful reserve) and records them.
  void write_rows(int32_t seq, const std::vector<int32_t>& add) {
    std::vector<int32_t>& toks = live_[seq];
    const int64_t len = int64_t(toks.size());
    toks.insert(toks.end(), add.begin(), add.end());
    const KvView v = pool_.view(seq);
    for (int64_t t = len; t < int64_t(toks.size()); ++t)
      for (int l = 0; l < kPoolLayers; ++l)
        for (int j = 0; j < kPoolRow; ++j) f32_row(v, l, t)[j] = row_value(toks, t, l, j);
    pool_.append(seq, add.data(), int64_t(add.size()));
  }
  void verify(int32_t seq) {
    const std::vector<int32_t>& toks = live_.at(seq);
    CHECK(pool_.tokens(seq) == toks, "seq %d: the pool's tokens are the ones written", seq);
    const KvView v = pool_.view(seq);
    int bad = 0;
    for (int64_t t = 0; t < int64_t(toks.size()); ++t)
      for (int l = 0; l < kPoolLayers; ++l)
        for (int j = 0; j < kPoolRow; ++j) bad += f32_row(v, l, t)[j] != row_value(toks, t, l, j);
    CHECK(bad == 0, "seq %d (%zu tokens): %d wrong values", seq, toks.size(), bad);
  }
  void verify_all() { for (auto& [seq, toks] : live_) verify(seq); }

  int open_seq() {
    int32_t seq;
    CHECK(pool_.alloc(&seq).ok(), "alloc");
    live_[seq] = {};
    auto prompt = docs_[rng_() % docs_.size()];
    const auto tail = random_tokens(int(rng_() % 12));
    prompt.insert(prompt.end(), tail.begin(), tail.end());
    const int64_t hit = pool_.attach_prefix(seq, prompt.data(), int64_t(prompt.size()));
    live_[seq].assign(prompt.begin(), prompt.begin() + hit);
    verify(seq);
    const std::vector<int32_t> rest(prompt.begin() + hit, prompt.end());
    if (!rest.empty() && pool_.reserve(seq, int64_t(prompt.size())).ok()) write_rows(seq, rest);
    return 1;
  }
  int extend() {
    if (live_.empty()) return 0;
    const int32_t seq = pick();
    const auto add = random_tokens(1 + int(rng_() % 9));
    const int64_t len = pool_.length(seq);
    if (!pool_.reserve(seq, len + int64_t(add.size())).ok()) {
      // Refused: it may have evicted unreferenced cached blocks, but this and every other live
      // sequence still hold what they held.
      ++refused_;
      CHECK(pool_.length(seq) == len, "a refused reserve leaves the sequence as it was");
      verify(seq);
      return 1;
    }
    write_rows(seq, add);
    return 1;
  }
  int fork() {
    if (live_.empty()) return 0;
    const int32_t src = pick();
    const int64_t n = int64_t(rng_() % (live_[src].size() + 1));
    int32_t dst;
    CHECK(pool_.fork(src, n, &dst).ok(), "fork");
    live_[dst].assign(live_[src].begin(), live_[src].begin() + n);
    verify(dst);
    return 1;
  }
  int release() {
    if (live_.empty()) return 0;
    const int32_t seq = pick();
    if (rng_() % 2) pool_.cache_sequence(seq);
    pool_.release(seq);
    live_.erase(seq);
    return 1;
  }
  int evict() { pool_.evict(1 + int64_t(rng_() % 4)); return 1; }
  // A snapshot out of the cache (its blocks' bytes, as write_snapshot copies them), the cache
  // cleared, and the prefix imported back; then a sequence attached to it reads the same rows.
  int snapshot() {
    auto prompt = docs_[rng_() % docs_.size()];
    std::vector<int32_t> blocks;
    const int64_t n = pool_.share_cached(prompt.data(), int64_t(prompt.size()), &blocks);
    if (n == 0) { pool_.unref(blocks); return 0; }
    const int64_t nb = (n + kPoolBlockTokens - 1) / kPoolBlockTokens;
    const size_t bytes = size_t(kPoolLayers) * kPoolBlockTokens * kPoolRow * sizeof(float);
    std::vector<uint8_t> data(size_t(nb) * bytes);
    for (int64_t b = 0; b < nb; ++b)
      std::copy(pool_.blocks().data(blocks[b]), pool_.blocks().data(blocks[b]) + bytes, &data[size_t(b) * bytes]);
    pool_.unref(blocks);
    pool_.clear_cache();
    if (!pool_.import_prefix(prompt.data(), n, data.data()).ok()) { ++refused_; return 1; }
    int32_t seq;
    CHECK(pool_.alloc(&seq).ok(), "alloc");
    const int64_t hit = pool_.attach_prefix(seq, prompt.data(), n);
    CHECK(hit == n, "the imported prefix is cached: %lld of %lld", (long long)hit, (long long)n);
    live_[seq].assign(prompt.begin(), prompt.begin() + hit);
    verify(seq);
    return 1;
  }

  std::mt19937& rng_;
  KvPool pool_;
  std::vector<std::vector<int32_t>> docs_;
  std::map<int32_t, std::vector<int32_t>> live_;  // sequence → the tokens whose rows it holds
  int refused_ = 0;
};

void engine_fuzz(std::mt19937& rng) {
  const std::string dir = shared_dir() + "/fixtures/tiny-k2";
  LoadOptions lo;
  lo.threads = 2;
  lo.max_sequences = 3;
  lo.prefill_chunk = 40;
  std::unique_ptr<Engine> base;
  CHECK(Engine::load(dir, lo, nullptr, &base).ok(), "load");
  const int64_t block_bytes = base->memory_stats().kv_bytes_capacity / base->cache_stats().blocks_total;
  base.reset();
  lo.kv_budget_bytes = kEngineBlocks * block_bytes;
  CHECK(Engine::load(dir, lo, nullptr, &base).ok(), "load small pool");
  auto* e = static_cast<EngineImpl*>(base.get());
  e->scheduler().set_threaded(false);
  auto tokens = [&](int n) {
    std::vector<int32_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = int32_t(3 + rng() % 40);  // few distinct ids: prefixes repeat
    return v;
  };
  std::vector<std::vector<int32_t>> docs;
  for (int i = 0; i < 4; ++i) docs.push_back(tokens(10 + int(rng() % 120)));
  char tmpl[] = "/tmp/kk_fuzz_XXXXXX";
  const std::string tmp = mkdtemp(tmpl);
  struct Req { int done_calls = 0; };
  std::map<Engine::RequestId, std::shared_ptr<Req>> reqs;
  std::vector<SeqId> seqs;
  std::map<std::string, int> counts;
  int errors = 0;
  for (int op = 0; op < kOps; ++op) {
    const int r = int(rng() % 100);
    if (r < 15) {
      Engine::Request q;
      q.prompt = docs[rng() % docs.size()];
      const auto tail = tokens(int(rng() % 30));
      q.prompt.insert(q.prompt.end(), tail.begin(), tail.end());
      q.sampling.max_tokens = 1 + int(rng() % 6);
      q.sampling.temperature = rng() % 2 ? 0.f : 0.8f;
      q.sampling.seed = rng();
      q.priority = int(rng() % 2);
      auto st = std::make_shared<Req>();
      Engine::Callbacks cb;
      cb.on_token = [&rng](int32_t t) { return t >= 0 && rng() % 50 != 0; };  // a client may stop reading
      cb.on_done = [st](const Status&, const GenerateResult&) { ++st->done_calls; };
      Engine::RequestId id;
      if (e->submit(std::move(q), std::move(cb), &id).ok()) reqs[id] = st;
      counts["submit"]++;
    } else if (r < 22) {
      if (!reqs.empty()) { auto it = reqs.begin(); std::advance(it, rng() % reqs.size()); e->cancel(it->first); }
      e->cancel(int64_t(rng() % 100000));  // an unknown id is ignored
      counts["cancel"]++;
    } else if (r < 60) {
      e->scheduler().step();
      counts["step"]++;
    } else if (r < 66) {
      SeqId s;
      if (e->new_sequence(&s).ok()) seqs.push_back(s);
      counts["new"]++;
    } else if (r < 74) {
      if (!seqs.empty()) {
        const SeqId s = seqs[rng() % seqs.size()];
        const auto add = tokens(1 + int(rng() % 20));
        ForwardResult res;
        if (!e->forward(s, add.data(), int(add.size()), ForwardRequest(), &res).ok()) ++errors;
      }
      counts["forward"]++;
    } else if (r < 78) {
      if (!seqs.empty()) {
        const SeqId src = seqs[rng() % seqs.size()];
        SeqId d;
        if (e->fork_sequence(src, int(rng() % (e->sequence_length(src) + 1)), &d).ok()) seqs.push_back(d);
      }
      counts["fork"]++;
    } else if (r < 86) {
      if (!seqs.empty()) {
        const size_t i = rng() % seqs.size();
        if (rng() % 2) e->close_sequence(seqs[i], true); else e->free_sequence(seqs[i]);
        seqs.erase(seqs.begin() + long(i));
      }
      counts["free"]++;
    } else if (r < 90) {
      if (rng() % 4) e->with_pool([&](KvPool& p) { return p.evict(1 + int64_t(rng() % 3)); });
      else e->clear_cache();
      counts["evict"]++;
    } else if (r < 95) {
      const std::string path = tmp + "/s" + std::to_string(rng() % 3) + ".kvsnap";
      int64_t n = 0;
      if (!e->save_snapshot(docs[rng() % docs.size()], path, &n).ok()) ++errors;
      counts["save"]++;
    } else {
      const std::string path = tmp + "/s" + std::to_string(rng() % 3) + ".kvsnap";
      int64_t n = 0;
      if (!e->restore_snapshot(path, docs[rng() % docs.size()], &n).ok()) ++errors;
      counts["restore"]++;
    }
  }
  for (SeqId s : seqs) e->free_sequence(s);
  int guard = 0;
  while (e->scheduler().running() + e->scheduler().waiting() > 0 && guard++ < 100000) e->scheduler().step();
  for (auto& [id, st] : reqs) CHECK(st->done_calls == 1, "request %lld: on_done called %d times", (long long)id, st->done_calls);
  e->clear_cache();
  std::printf("  engine fuzz: %d ops (", kOps);
  for (auto& [k, v] : counts) std::printf("%s %d, ", k.c_str(), v);
  std::printf("%d refused with a message)\n", errors);
  const auto cs = e->cache_stats();
  CHECK(cs.blocks_free == cs.blocks_total && cs.cached_tokens == 0, "pool back to empty: %lld of %lld free",
        (long long)cs.blocks_free, (long long)cs.blocks_total);
  CHECK(e->with_pool([](const KvPool& p) { return p.n_sequences(); }) == 0, "no sequence left");
  for (int i = 0; i < 3; ++i) std::remove((tmp + "/s" + std::to_string(i) + ".kvsnap").c_str());
  rmdir(tmp.c_str());
}

}  // namespace

int main() {
  std::mt19937 rng(4242);
  PoolFuzz(&rng).run();
  if (exists(shared_dir() + "/fixtures/tiny-k2/config.json")) engine_fuzz(rng);
  else std::printf("  engine fuzz skipped: no tiny-k2 fixture\n");
  return kk_test::finish("test_kv_fuzz");
}

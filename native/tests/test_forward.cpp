// test_forward.cpp — the K2 forward on tiny-k2: eval passes (exact and fast); prefill equals
// token-by-token decode; absorbed MLA equals naive; batched decode equals decoding alone; a fork
// equals re-prefilling; generate honours max tokens, stop ids and cancellation and reports prefill
// progress per chunk. Each property is a named case (run_cases): the output says which broke, and
// `test_forward NAME...` runs only those.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <sys/stat.h>
#include "engine/engine_impl.h"
#include "karakoram/tools.h"
#include "test_util.h"

using namespace kk;

namespace {

std::string shared_dir() {
  if (const char* s = std::getenv("KK_SHARED")) return s;
  return "../shared";
}
bool exists(const std::string& p) { struct stat st; return stat(p.c_str(), &st) == 0; }

double max_abs(const std::vector<float>& a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

// Prefill `ids` on a fresh sequence and return it.
SeqId prefill(Engine& e, const std::vector<int32_t>& ids, ForwardResult* r, bool all = false) {
  SeqId s = -1;
  CHECK(e.new_sequence(&s).ok(), "new_sequence");
  ForwardRequest req;
  req.all_logits = all;
  Status st = e.forward(s, ids.data(), int(ids.size()), req, r);
  CHECK(st.ok(), "forward: %s", st.message().c_str());
  return s;
}

std::string tiny_dir() { return shared_dir() + "/fixtures/tiny-k2"; }

// The engine most cases share: 2 threads, 8 sequences of up to 512 tokens.
LoadOptions shared_options() {
  LoadOptions lo;
  lo.threads = 2;
  lo.max_sequences = 8;
  lo.max_context = 512;
  return lo;
}

// tiny-k2 with shared_options(), loaded on first use and kept for the cases after; a failed load
// fails every case that asks for it.
class SharedEngine {
 public:
  EngineImpl* get() {
    if (!tried_) {
      tried_ = true;
      const Status st = Engine::load(tiny_dir(), shared_options(), nullptr, &eng_);
      CHECK(st.ok(), "load: %s", st.message().c_str());
      if (!st.ok()) eng_.reset();
    }
    CHECK(eng_ != nullptr, "no engine (tiny-k2 did not load)");
    return static_cast<EngineImpl*>(eng_.get());
  }

 private:
  std::unique_ptr<Engine> eng_;
  bool tried_ = false;
};

// Random token ids below the vocabulary size; each case starts its own stream from the same seed,
// so a case sees the same inputs whether it runs alone or after the others.
struct RandomIds {
  explicit RandomIds(int vocab) : V(vocab) {}
  std::vector<int32_t> operator()(int n) {
    std::vector<int32_t> v(n);
    for (auto& x : v) x = int32_t(rng() % V);
    return v;
  }
  int V;
  std::mt19937 rng{42};
};

// eval against HF transformers in one mode, with the Q4 experts in the layout the CPU kernels
// prefer (repacked to block_q4x16 where they have kernels for it) or as block_q4 rows.
void eval_passes(const char* mode, bool repack) {
  const std::string dir = tiny_dir();
  EvalOptions o;
  o.load.mode = mode;
  o.load.threads = 2;
  o.load.repack_q4 = repack;
  EvalReport rep;
  Status s = run_eval(dir, dir + "/reference.safetensors", o, [](const std::string& l) { std::printf("  %s\n", l.c_str()); }, &rep);
  CHECK(s.ok(), "eval %s repack=%d: %s", mode, int(repack), s.message().c_str());
  CHECK(rep.pass, "eval %s repack=%d: %s", mode, int(repack), rep.summary_line.c_str());
}

// The load-time repack happened where the kernels prefer it (tiny-k2's expert rows are
// multiples of 16), so the cases below run on block_q4x16 there.
void load_repacks_q4_where_kernels_prefer(EngineImpl& e) {
  const std::string want_layout = cpu::kernels_best().q4x16_native ? "x16" : "rows";
  CHECK(e.info().q4_layout == want_layout, "q4_layout %s, want %s", e.info().q4_layout.c_str(), want_layout.c_str());
  const MoeWeights& m = e.model().weights().layers.back().moe;
  CHECK(m.gate_exps.type == (want_layout == "x16" ? DType::Q4X16 : DType::Q4), "gate_exps is %s", dtype_name(m.gate_exps.type));
}

// Batched prefill (naive attention) equals token-by-token decode (absorbed, through the cache).
void prefill_equals_token_by_token_decode(EngineImpl& e) {
  const int V = e.info().vocab;
  RandomIds random_ids(V);
  const auto ids = random_ids(40);
  ForwardResult all;
  SeqId a = prefill(e, ids, &all, true);
  SeqId b;
  CHECK(e.new_sequence(&b).ok(), "new_sequence");
  double err = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    ForwardResult r;
    CHECK(e.forward(b, &ids[i], 1, ForwardRequest(), &r).ok(), "decode step");
    err = std::max(err, max_abs(r.logits, all.logits.data() + i * V, V));
  }
  CHECK(err < 1e-4, "prefill vs token-by-token decode: max abs logit diff %.3e", err);
  std::printf("prefill vs decode: %.3e\n", err);
  e.free_sequence(a);
  e.free_sequence(b);
}

// Absorbed MLA equals naive attention on the same inputs (every layer, a cached prefix + 9 new).
void absorbed_mla_equals_naive(EngineImpl& e) {
  RandomIds random_ids(e.info().vocab);
  const auto ids = random_ids(23);
  ForwardResult r;
  SeqId s = prefill(e, ids, &r);
  const ModelConfig& c = e.model().config();
  const int n = 9;
  std::vector<float> h(size_t(n) * c.hidden_size);
  std::normal_distribution<float> nd(0.f, 1.f);
  for (auto& x : h) x = nd(random_ids.rng);
  Batch b;
  std::vector<int32_t> dummy(n, 0);
  b.ids = dummy.data();
  b.spans.push_back(Span{e.kv_view(s), int64_t(ids.size()), n});
  double worst = 0;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    std::vector<float> naive(h.size()), absorbed(h.size());
    e.model().attention(e.ops(), l, b, h.data(), false, naive.data());
    e.model().attention(e.ops(), l, b, h.data(), true, absorbed.data());
    double mag = 0;
    for (float v : naive) mag = std::max(mag, double(std::fabs(v)));
    worst = std::max(worst, max_abs(naive, absorbed.data(), naive.size()) / mag);
  }
  CHECK(worst < 1e-5, "absorbed vs naive attention: max rel diff %.3e", worst);
  std::printf("absorbed vs naive: %.3e\n", worst);
  e.free_sequence(s);
}

// decode_batch over 3 sequences of different lengths equals decoding each alone.
void decode_batch_equals_decoding_alone(EngineImpl& e) {
  const int V = e.info().vocab;
  RandomIds random_ids(V);
  const std::vector<int> lens{5, 17, 31};
  std::vector<std::vector<int32_t>> prompts;
  std::vector<SeqId> batch, alone;
  for (int len : lens) {
    prompts.push_back(random_ids(len));
    ForwardResult r;
    batch.push_back(prefill(e, prompts.back(), &r));
    alone.push_back(prefill(e, prompts.back(), &r));
  }
  double err = 0;
  for (int step = 0; step < 4; ++step) {
    const auto next = random_ids(3);
    std::vector<std::vector<float>> bl;
    const Status st = e.decode_batch(batch, next, &bl);
    CHECK(st.ok(), "decode_batch: %s", st.message().c_str());
    for (int i = 0; i < 3 && st.ok(); ++i) {
      ForwardResult r;
      CHECK(e.forward(alone[i], &next[i], 1, ForwardRequest(), &r).ok(), "alone step");
      err = std::max(err, max_abs(bl[i], r.logits.data(), V));
    }
  }
  CHECK(err < 1e-5, "decode_batch vs alone: %.3e", err);
  std::printf("decode_batch vs alone: %.3e\n", err);
  for (int i = 0; i < 3; ++i) CHECK(e.sequence_length(batch[i]) == lens[i] + 4, "length after batch decode");
  std::vector<std::vector<float>> bl;
  CHECK(!e.decode_batch({batch[0], batch[0]}, {1, 2}, &bl).ok(), "a sequence twice in a batch is an error");
  for (SeqId s : batch) e.free_sequence(s);
  for (SeqId s : alone) e.free_sequence(s);
}

// fork_sequence from a cached prefix equals re-prefilling prefix + continuation.
void fork_equals_reprefill(EngineImpl& e) {
  const int V = e.info().vocab;
  RandomIds random_ids(V);
  const auto ids = random_ids(30);
  ForwardResult r;
  SeqId src = prefill(e, ids, &r);
  SeqId f;
  CHECK(e.fork_sequence(src, 20, &f).ok(), "fork");
  CHECK(e.sequence_length(f) == 20, "fork length");
  const std::vector<int32_t> cont{7, 8, 9, 10};
  ForwardResult rf, rr;
  CHECK(e.forward(f, cont.data(), 4, ForwardRequest(), &rf).ok(), "forward on fork");
  std::vector<int32_t> full(ids.begin(), ids.begin() + 20);
  full.insert(full.end(), cont.begin(), cont.end());
  SeqId g = prefill(e, full, &rr);
  const double err = max_abs(rf.logits, rr.logits.data(), V);
  CHECK(err < 1e-4, "fork vs re-prefill: %.3e", err);
  SeqId bad;
  CHECK(!e.fork_sequence(src, 31, &bad).ok(), "fork past the end is an error");
  e.free_sequence(src);
  e.free_sequence(f);
  e.free_sequence(g);
}

// generate: greedy matches argmax decoding, max tokens, stop ids, cancellation.
void generate_greedy_stop_and_cancel(EngineImpl& e) {
  const int V = e.info().vocab;
  RandomIds random_ids(V);
  const auto prompt = random_ids(12);
  SamplingParams sp;
  sp.max_tokens = 6;
  GenerateResult g;
  CHECK(e.generate(prompt, sp, nullptr, &g).ok(), "generate");
  CHECK(g.output_ids.size() == 6 && g.finish_reason == "length", "max tokens: %zu %s", g.output_ids.size(), g.finish_reason.c_str());
  if (g.output_ids.size() != 6) return;
  // The same tokens by hand.
  ForwardResult r;
  SeqId s = prefill(e, prompt, &r);
  bool same = true;
  for (int i = 0; i < 6; ++i) {
    int best = 0;
    for (int j = 1; j < V; ++j) if (r.logits[j] > r.logits[best]) best = j;
    same = same && best == g.output_ids[i];
    CHECK(e.forward(s, &best, 1, ForwardRequest(), &r).ok(), "step");
  }
  CHECK(same, "generate greedy equals argmax decoding");
  e.free_sequence(s);
  sp.stop_ids = {g.output_ids[2]};
  GenerateResult g2;
  CHECK(e.generate(prompt, sp, nullptr, &g2).ok(), "generate with stop");
  CHECK(g2.finish_reason == "stop" && g2.output_ids.size() <= 3 && g2.output_ids.back() == g.output_ids[2],
        "stop id ends generation (kept as last token): %s n=%zu", g2.finish_reason.c_str(), g2.output_ids.size());
  GenerateResult g3;
  int seen = 0;
  sp.stop_ids.clear();
  CHECK(e.generate(prompt, sp, [&](int32_t) { return ++seen < 2; }, &g3).ok(), "generate cancelled");
  CHECK(g3.finish_reason == "cancelled" && g3.output_ids.size() == 2, "cancel after 2: %s %zu", g3.finish_reason.c_str(), g3.output_ids.size());
  e.clear_cache();
}

// Prefix cache: the same prompt again reuses all but its last token and answers the same; a
// prompt that diverges inside a block (token 80 of a 64-token-block cache) reuses 80 tokens
// (copy-on-write of the shared block) and answers as a fresh prefill does.
void prefix_cache_hit_answers_as_fresh_prefill(EngineImpl& e) {
  const int V = e.info().vocab;
  RandomIds random_ids(V);
  const auto prompt = random_ids(12);
  SamplingParams sp;
  sp.max_tokens = 6;
  e.clear_cache();
  GenerateResult g, again;
  CHECK(e.generate(prompt, sp, nullptr, &g).ok(), "generate");
  CHECK(e.generate(prompt, sp, nullptr, &again).ok(), "generate again");
  CHECK(again.cached_tokens == int(prompt.size()) - 1 && again.output_ids == g.output_ids,
        "next turn: cached %d tokens, same answer", again.cached_tokens);
  auto doc = random_ids(100);
  GenerateResult gd;
  CHECK(e.generate(doc, sp, nullptr, &gd).ok(), "generate doc");
  auto other = doc;
  for (size_t i = 80; i < other.size(); ++i) other[i] = (other[i] + 7) % V;
  GenerateResult hit, fresh;
  CHECK(e.generate(other, sp, nullptr, &hit).ok(), "generate diverging");
  CHECK(hit.cached_tokens == 80, "mid-block divergence reuses 80 tokens: %d", hit.cached_tokens);
  e.clear_cache();
  CHECK(e.generate(other, sp, nullptr, &fresh).ok() && fresh.cached_tokens == 0, "fresh");
  CHECK(hit.output_ids == fresh.output_ids, "prefix hit answers as a fresh prefill");
  // The answered prompts stay in the prefix cache until evicted or cleared.
  CHECK(e.cache_stats().cached_tokens > 0, "generate leaves its tokens in the prefix cache");
  e.clear_cache();
  const auto m = e.memory_stats();
  CHECK(m.kv_bytes_used == 0 && m.kv_bytes_capacity > 0 && m.weights_bytes > 0, "memory stats after clear_cache");
}

// Pool limits: context overflow is an error, not a crash; memory accounting.
void context_overflow_is_an_error(EngineImpl& e) {
  RandomIds random_ids(e.info().vocab);
  e.clear_cache();
  ForwardResult r;
  SeqId s = prefill(e, random_ids(500), &r);
  const auto m = e.memory_stats();
  CHECK(m.kv_bytes_used >= 500 * e.info().kv_bytes_per_token, "kv bytes used %lld", (long long)m.kv_bytes_used);
  const auto more = random_ids(13);
  CHECK(!e.forward(s, more.data(), 13, ForwardRequest(), &r).ok(), "context overflow is an error");
  CHECK(e.sequence_length(s) == 500, "failed forward leaves the sequence as it was");
  e.free_sequence(s);
  CHECK(e.memory_stats().kv_bytes_used == 0, "a freed sequence gives its blocks back");
}

// Pool exhaustion: a request that cannot fit gets a clear error; the other sequence's data stays.
void kv_pool_exhaustion_is_an_error() {
  const std::string dir = tiny_dir();
  const LoadOptions lo = shared_options();
  LoadOptions small = lo;
  small.kv_budget_bytes = 1;  // below one block: refused at load with a message
  std::unique_ptr<Engine> e0;
  CHECK(!Engine::load(dir, small, nullptr, &e0).ok(), "a budget below one block is refused");
  std::unique_ptr<Engine> probe;
  CHECK(Engine::load(dir, lo, nullptr, &probe).ok(), "load");
  if (!probe) return;
  const int64_t block_bytes = probe->memory_stats().kv_bytes_capacity / probe->cache_stats().blocks_total;
  RandomIds random_ids(probe->info().vocab);
  probe.reset();
  small.kv_budget_bytes = 4 * block_bytes;  // 4 blocks = 256 tokens
  std::unique_ptr<Engine> e4;
  CHECK(Engine::load(dir, small, nullptr, &e4).ok(), "load small pool");
  if (!e4) return;
  ForwardResult r1, r2;
  SeqId a = prefill(*e4, random_ids(190), &r1);
  SeqId b;
  CHECK(e4->new_sequence(&b).ok(), "new_sequence");
  const auto big = random_ids(100);
  const Status st = e4->forward(b, big.data(), 100, ForwardRequest(), &r2);
  CHECK(!st.ok() && st.message().find("KV pool exhausted") != std::string::npos, "exhaustion: %s", st.message().c_str());
  CHECK(e4->sequence_length(b) == 0 && e4->sequence_length(a) == 190, "nothing changed");
  const auto next = random_ids(1);
  CHECK(e4->forward(a, next.data(), 1, ForwardRequest(), &r2).ok(), "the other sequence goes on");
  e4->free_sequence(a);
  e4->free_sequence(b);
  CHECK(e4->memory_stats().kv_bytes_used == 0, "pool back to empty");
}

// An engine for prompts longer than the prefill chunk (512).
std::unique_ptr<Engine> load_long_prompt_engine() {
  LoadOptions big = shared_options();
  big.max_sequences = 2;
  big.max_context = 600;
  big.threads = 1;  // 560 tiny steps: thread hand-offs would dominate on a busy machine
  std::unique_ptr<Engine> e2;
  const Status st = Engine::load(tiny_dir(), big, nullptr, &e2);
  CHECK(st.ok(), "load: %s", st.message().c_str());
  return st.ok() ? std::move(e2) : nullptr;
}
constexpr int kLongPrompt = 560;  // tokens: two prefill chunks

// A prompt longer than the prefill chunk equals token-by-token decoding.
void chunked_prefill_equals_decode() {
  std::unique_ptr<Engine> e2 = load_long_prompt_engine();
  if (!e2) return;
  const int V = e2->info().vocab;
  RandomIds random_ids(V);
  const auto ids = random_ids(kLongPrompt);
  ForwardResult all;
  SeqId a = prefill(*e2, ids, &all, true);
  SeqId b;
  CHECK(e2->new_sequence(&b).ok(), "new_sequence");
  double err = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    ForwardResult r;
    CHECK(e2->forward(b, &ids[i], 1, ForwardRequest(), &r).ok(), "decode step");
    if (i % 50 == 0 || i + 1 == ids.size()) err = std::max(err, max_abs(r.logits, all.logits.data() + i * V, V));
  }
  CHECK(all.logits.size() == ids.size() * size_t(V), "all logits across chunks");
  CHECK(err < 1e-4, "chunked prefill vs decode: %.3e", err);
  std::printf("chunked prefill vs decode: %.3e\n", err);
  e2->free_sequence(a);
  e2->free_sequence(b);
}

// generate reports prompt progress after each chunk: increasing, ending at the prompt length.
void generate_reports_prefill_progress_per_chunk() {
  std::unique_ptr<Engine> e2 = load_long_prompt_engine();
  if (!e2) return;
  RandomIds random_ids(e2->info().vocab);
  const auto ids = random_ids(kLongPrompt);
  std::vector<std::pair<int, int>> progress;
  SamplingParams sp;
  sp.max_tokens = 1;
  GenerateResult g;
  CHECK(e2->generate(ids, sp, nullptr, &g, [&](int done, int total) { progress.emplace_back(done, total); }).ok(),
        "generate with prefill progress");
  CHECK(progress.size() == 2, "one progress call per chunk: %zu", progress.size());
  for (size_t i = 0; i < progress.size(); ++i) {
    CHECK(progress[i].second == int(ids.size()), "progress total %d", progress[i].second);
    CHECK(progress[i].first > (i ? progress[i - 1].first : 0), "progress increases: %d", progress[i].first);
  }
  CHECK(!progress.empty() && progress.back().first == int(ids.size()), "progress ends at the prompt length");
}

}  // namespace

int main(int argc, char** argv) {
  if (!exists(tiny_dir() + "/config.json")) { std::printf("skip: no %s\n", tiny_dir().c_str()); return KK_TEST_SKIP; }
  SharedEngine shared;
  // A case over the shared engine; it fails (and does nothing) when the engine did not load.
  auto on_shared = [&](void (*fn)(EngineImpl&)) {
    return [&shared, fn] { if (EngineImpl* e = shared.get()) fn(*e); };
  };
  const std::vector<kk_test::NamedCase> cases = {
      {"eval_exact_q4x16", [] { eval_passes("exact", true); }},
      {"eval_fast_q4x16", [] { eval_passes("fast", true); }},
      {"eval_exact_q4_rows", [] { eval_passes("exact", false); }},
      {"eval_fast_q4_rows", [] { eval_passes("fast", false); }},
      {"load_repacks_q4_where_kernels_prefer", on_shared(load_repacks_q4_where_kernels_prefer)},
      {"prefill_equals_token_by_token_decode", on_shared(prefill_equals_token_by_token_decode)},
      {"absorbed_mla_equals_naive", on_shared(absorbed_mla_equals_naive)},
      {"decode_batch_equals_decoding_alone", on_shared(decode_batch_equals_decoding_alone)},
      {"fork_equals_reprefill", on_shared(fork_equals_reprefill)},
      {"generate_greedy_stop_and_cancel", on_shared(generate_greedy_stop_and_cancel)},
      {"prefix_cache_hit_answers_as_fresh_prefill", on_shared(prefix_cache_hit_answers_as_fresh_prefill)},
      {"context_overflow_is_an_error", on_shared(context_overflow_is_an_error)},
      {"kv_pool_exhaustion_is_an_error", kv_pool_exhaustion_is_an_error},
      {"chunked_prefill_equals_decode", chunked_prefill_equals_decode},
      {"generate_reports_prefill_progress_per_chunk", generate_reports_prefill_progress_per_chunk},
  };
  return kk_test::run_cases("test_forward", cases, argc, argv);
}

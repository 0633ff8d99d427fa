// test_kv_precision.cpp — the latent KV cache in fp32, bf16 and fp8-e4m3 (row scale) on tiny-k2,
// fast mode (exact mode takes only fp32):
//  - storage: layer 0's cached rows (whose inputs do not depend on the cache) equal the fp32
//    engine's rows to within the format's rounding (bf16: 2^-8 relative; e4m3: 2^-4 relative plus
//    half a subnormal step of the row's scale);
//  - reuse is exact within a precision: after a prefix hit (a shared document, a divergence in
//    the middle of a block) and after a snapshot restore the next-token logits equal a fresh
//    prefill's bit for bit;
//  - a snapshot of one precision is refused by an engine keeping another, with a message naming
//    both, and the prompt is then prefilled correctly;
//  - `karakoram eval` per precision (the figures docs/engine-sessions.md reports): fp32 passes the
//    fast-mode bounds; bf16 stays within them on every prefill where no router choice flips
//    (prompts 0 and 1 of the reference; prompt 2 flips one expert choice of this random-weight
//    model, which moves the logits by ~1); fp8's errors are printed, not judged.
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include "engine/engine_impl.h"
#include "karakoram/tools.h"
#include "test_util.h"
#include "engine_test_util.h"

using namespace kk;
using namespace kk_test;

namespace {

// `karakoram eval`'s fast-mode logit bound (native/src/tools/eval.cpp, kFast.logit).
constexpr double kFastLogitTol = 0.08;
// Reference prompts of tiny-k2 on which no router choice flips under a bf16 cache (measured: the
// prefill logits of prompts 0 and 1 move by 1.3e-2 and 1.7e-2; prompt 1's decode by 1.6e-2).
constexpr int kBf16SmoothPrompts = 2;
constexpr int kBf16SmoothDecodePrompt = 1;

std::unique_ptr<EngineImpl> load(const std::string& dir, const std::string& kv_dtype) {
  LoadOptions lo;
  lo.mode = "fast";
  lo.kv_dtype = kv_dtype;
  lo.threads = 2;
  lo.kv_budget_bytes = int64_t(32) << 20;
  return load_engine(dir, lo);
}

void check_bit_exact_hit(const char* what, EngineImpl& e, const std::vector<int32_t>& ids, int64_t want_cached) {
  int64_t cached = -1;
  const auto hit = cached_logits(e, ids, &cached);
  const auto fresh = fresh_logits(e, ids);
  const double err = max_abs(hit, fresh);
  std::printf("  %-5s %-40s cached %3lld of %3zu, max |logit diff| vs fresh %.3e\n", e.info().kv_dtype.c_str(), what,
              (long long)cached, ids.size(), err);
  CHECK(cached == want_cached, "%s: cached %lld, expected %lld", what, (long long)cached, (long long)want_cached);
  CHECK(err == 0, "%s (%s): the hit's logits differ from a fresh prefill by %.3e", what, e.info().kv_dtype.c_str(), err);
}

// Layer 0's rows of `ids` prefilled on a new sequence, as fp32.
std::vector<float> layer0_rows(EngineImpl& e, const std::vector<int32_t>& ids) {
  SeqId s = -1;
  CHECK(e.new_sequence(&s).ok(), "new_sequence");
  ForwardResult r;
  CHECK(e.forward(s, ids.data(), int(ids.size()), ForwardRequest(), &r).ok(), "forward");
  const KvView v = e.kv_view(s);
  std::vector<const uint8_t*> ptrs;
  const KvPages pages = v.layer(0, &ptrs);
  std::vector<float> rows(ids.size() * size_t(v.row));
  pages.read_rows(0, int64_t(ids.size()), rows.data());
  e.free_sequence(s);
  return rows;
}

void test_storage(EngineImpl& f32, EngineImpl& e, const std::vector<int32_t>& ids) {
  const auto ref = layer0_rows(f32, ids), got = layer0_rows(e, ids);
  const int64_t D = f32.model().kv_row();
  const bool bf16 = e.info().kv_dtype == "bf16";
  double worst = 0;  // error / bound
  for (size_t t = 0; t < ids.size(); ++t) {
    double amax = 0;
    for (int64_t i = 0; i < D; ++i) amax = std::max(amax, std::fabs(double(ref[t * D + i])));
    const double scale = amax / KK_KV_FP8_MAX;
    for (int64_t i = 0; i < D; ++i) {
      const double x = ref[t * D + i], err = std::fabs(double(got[t * D + i]) - x);
      // Half an ulp of the format (and of fp32 for the scale product), half a subnormal step.
      const double bound = bf16 ? std::ldexp(std::fabs(x), -8) : std::ldexp(std::fabs(x), -4) + std::ldexp(scale, -10) +
                                                                     1e-6 * std::fabs(x);
      worst = std::max(worst, bound > 0 ? err / bound : (err > 0 ? INFINITY : 0));
    }
  }
  std::printf("  %-5s layer-0 rows vs fp32: worst error / format bound = %.3f\n", e.info().kv_dtype.c_str(), worst);
  CHECK(worst <= 1.0, "%s rows: error %.3f times the format's rounding bound", e.info().kv_dtype.c_str(), worst);
}

void test_reuse(EngineImpl& e, std::mt19937& rng) {
  const int V = e.info().vocab;
  e.clear_cache();
  const auto doc = random_ids(rng, 200, V);
  auto q1 = random_ids(rng, 25, V), q2 = random_ids(rng, 25, V);
  q2[0] = q1[0] == 3 ? 4 : 3;
  int64_t cached = -1;
  cached_logits(e, cat(doc, q1), &cached);
  check_bit_exact_hit("two conversations sharing a document", e, cat(doc, q2), 200);
  const auto a = random_ids(rng, 160, V);
  auto b = a;
  for (size_t i = 100; i < b.size(); ++i) b[i] = 3 + (b[i] + 11) % (V - 3);
  cached_logits(e, a, &cached);
  check_bit_exact_hit("divergence in the middle of a block", e, b, 100);
  e.clear_cache();
}

void test_snapshots(const std::string& dir, std::mt19937& rng) {
  char tmpl[] = "/tmp/kk_kvprec_XXXXXX";
  const std::string tmp = mkdtemp(tmpl);
  const std::string path = tmp + "/conv.kvsnap";
  std::vector<int32_t> prompt;
  {
    auto e1 = load(dir, "bf16");
    prompt = random_ids(rng, 150, e1->info().vocab);
    const std::vector<int32_t> prefix(prompt.begin(), prompt.begin() + 130);
    int64_t cached = -1, saved = -1;
    cached_logits(*e1, prefix, &cached);
    CHECK(e1->save_snapshot(prompt, path, &saved).ok() && saved == 130, "save bf16 snapshot: %lld", (long long)saved);
  }
  {
    auto e2 = load(dir, "bf16");
    int64_t restored = -1;
    const Status st = e2->restore_snapshot(path, prompt, &restored);
    CHECK(st.ok() && restored == 130, "restore into bf16: %s", st.message().c_str());
    check_bit_exact_hit("restored snapshot", *e2, prompt, 130);
  }
  for (const char* other : {"fp8", "fp32"}) {
    auto e3 = load(dir, other);
    int64_t restored = -1;
    const Status st = e3->restore_snapshot(path, prompt, &restored);
    std::printf("  refused (%s engine): %s\n", other, st.message().c_str());
    CHECK(!st.ok() && st.message().find("holds a bf16 KV cache") != std::string::npos &&
              st.message().find(std::string("keeps ") + other) != std::string::npos,
          "a bf16 snapshot into a %s engine: '%s'", other, st.message().c_str());
    CHECK(restored == 0 && e3->cache_stats().cached_tokens == 0, "nothing restored into %s", other);
    int64_t cached = -1;
    const auto again = cached_logits(*e3, prompt, &cached);
    CHECK(cached == 0 && max_abs(again, fresh_logits(*e3, prompt)) == 0, "%s: prompt prefilled again", other);
  }
  std::remove(path.c_str());
  rmdir(tmp.c_str());
}

void test_eval(const std::string& dir) {
  for (const char* dt : {"fp32", "bf16", "fp8"}) {
    EvalOptions o;
    o.load.mode = "fast";
    o.load.kv_dtype = dt;
    o.load.threads = 2;
    EvalReport rep;
    const Status st = run_eval(dir, dir + "/reference.safetensors", o, [](const std::string&) {}, &rep);
    CHECK(st.ok(), "eval %s: %s", dt, st.message().c_str());
    std::printf("  eval fast %-5s %s\n", dt, rep.summary_line.c_str());
    if (std::string(dt) == "fp32") CHECK(rep.pass, "fast mode with an fp32 cache passes eval");
    if (std::string(dt) == "bf16") {
      CHECK(rep.prompts.size() > size_t(kBf16SmoothPrompts), "reference prompts");
      for (int p = 0; p < kBf16SmoothPrompts && p < int(rep.prompts.size()); ++p)
        CHECK(rep.prompts[p].max_abs_logit_err <= kFastLogitTol, "bf16 prompt %d prefill logits within %.2f: %.3e", p,
              kFastLogitTol, rep.prompts[p].max_abs_logit_err);
      if (int(rep.prompts.size()) > kBf16SmoothDecodePrompt)
        CHECK(rep.prompts[kBf16SmoothDecodePrompt].decode_max_abs_logit_err <= kFastLogitTol,
              "bf16 prompt %d decode logits within %.2f: %.3e", kBf16SmoothDecodePrompt, kFastLogitTol,
              rep.prompts[kBf16SmoothDecodePrompt].decode_max_abs_logit_err);
    }
  }
}

}  // namespace

int main() {
  const std::string dir = shared_dir() + "/fixtures/tiny-k2";
  if (!exists(dir + "/config.json")) { std::printf("skip: no %s\n", dir.c_str()); return KK_TEST_SKIP; }
  std::mt19937 rng(20261204);
  {
    // Exact mode keeps fp32 only.
    LoadOptions lo;
    lo.kv_dtype = "bf16";
    std::unique_ptr<Engine> e;
    const Status st = Engine::load(dir, lo, nullptr, &e);
    CHECK(!st.ok() && st.message().find("exact mode keeps the KV cache in fp32") != std::string::npos,
          "exact mode refuses a bf16 cache: '%s'", st.message().c_str());
    lo.kv_dtype = "fp16";
    lo.mode = "fast";
    CHECK(!Engine::load(dir, lo, nullptr, &e).ok(), "an unknown kv_dtype is refused");
  }
  auto f32 = load(dir, "fp32");
  const auto ids = random_ids(rng, 100, f32->info().vocab);
  for (const char* dt : {"bf16", "fp8"}) {
    auto e = load(dir, dt);
    const int64_t row = f32->model().kv_row(), L = f32->info().n_layers;
    const int code = std::string(dt) == "bf16" ? KK_KV_BF16 : KK_KV_FP8;
    CHECK(e->info().kv_dtype == dt && e->info().kv_bytes_per_token == L * KK_KV_ROW_BYTES(code, row) &&
              e->cache_stats().bytes_per_token == e->info().kv_bytes_per_token,
          "%s: %lld bytes per token", dt, (long long)e->info().kv_bytes_per_token);
    test_storage(*f32, *e, ids);
  }
  for (const char* dt : {"fp32", "bf16", "fp8"}) {
    auto e = load(dir, dt);
    test_reuse(*e, rng);
  }
  test_snapshots(dir, rng);
  test_eval(dir);
  return kk_test::finish("test_kv_precision");
}

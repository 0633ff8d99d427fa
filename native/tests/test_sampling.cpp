// test_sampling.cpp — the sampler: greedy, seeds, masks, penalties, stop ids and max tokens.
#include <cmath>
#include <map>
#include <vector>
#include "sample/sampler.h"
#include "test_util.h"

using namespace kk;

static std::vector<float> logits_of(std::vector<float> v) { return v; }
static int finite_count(const std::vector<float>& v) { int n = 0; for (float x : v) n += std::isfinite(x); return n; }

int main() {
  // Greedy = argmax, whatever the seed.
  {
    SamplingParams sp;
    sp.temperature = 0;
    for (uint64_t seed : {0ull, 1ull, 99ull}) {
      sp.seed = seed;
      Sampler s(sp, {});
      auto l = logits_of({0.1f, 2.5f, -1.f, 2.4f});
      CHECK(s.next(l.data(), 4) == 1, "greedy picks the max (seed %llu)", (unsigned long long)seed);
    }
  }
  // Same seed, same draws; different seeds differ somewhere.
  {
    SamplingParams sp;
    sp.temperature = 1.0f;
    auto draw = [&](uint64_t seed) {
      sp.seed = seed;
      Sampler s(sp, {});
      std::vector<int> out;
      for (int i = 0; i < 64; ++i) {
        std::vector<float> l(16);
        for (int j = 0; j < 16; ++j) l[j] = float(j % 5) * 0.3f;
        out.push_back(s.next(l.data(), 16));
      }
      return out;
    };
    CHECK(draw(7) == draw(7), "same seed reproduces");
    CHECK(draw(7) != draw(8), "different seeds differ");
  }
  // Sampling follows the distribution: p = softmax([0, ln 3]) = [0.25, 0.75].
  {
    SamplingParams sp;
    sp.temperature = 1.0f;
    sp.seed = 3;
    Sampler s(sp, {});
    int ones = 0;
    const int N = 4000;
    for (int i = 0; i < N; ++i) { std::vector<float> l{0.f, std::log(3.f)}; ones += s.next(l.data(), 2); }
    CHECK(std::fabs(ones / double(N) - 0.75) < 0.03, "frequency %.3f vs 0.75", ones / double(N));
  }
  // top-k keeps the k best.
  {
    auto l = logits_of({1, 5, 3, 4, 2});
    mask_top_k(l.data(), 5, 2);
    CHECK(finite_count(l) == 2 && std::isfinite(l[1]) && std::isfinite(l[3]), "top-2 keeps ids 1 and 3");
  }
  // top-p: probs [0.5, 0.3, 0.15, 0.05]: p=0.7 keeps 2, p=0.85 keeps 3, p=0.1 keeps 1.
  {
    const std::vector<float> base{std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
    auto a = base; mask_top_p(a.data(), 4, 0.7f);
    CHECK(finite_count(a) == 2, "top-p 0.7 keeps 2, kept %d", finite_count(a));
    auto b = base; mask_top_p(b.data(), 4, 0.85f);
    CHECK(finite_count(b) == 3, "top-p 0.85 keeps 3, kept %d", finite_count(b));
    auto c = base; mask_top_p(c.data(), 4, 0.1f);
    CHECK(finite_count(c) == 1 && std::isfinite(c[0]), "top-p 0.1 keeps the best");
    // min-p 0.2: cut = 0.1: drops 0.05 only; min-p 0.5: cut 0.25: keeps 0.5 and 0.3.
    auto d = base; mask_min_p(d.data(), 4, 0.2f);
    CHECK(finite_count(d) == 3 && !std::isfinite(d[3]), "min-p 0.2 drops the 0.05 token");
    auto e = base; mask_min_p(e.data(), 4, 0.5f);
    CHECK(finite_count(e) == 2, "min-p 0.5 keeps 2, kept %d", finite_count(e));
  }
  // Masks restrict what sampling can return.
  {
    SamplingParams sp;
    sp.temperature = 1.5f;
    sp.top_k = 2;
    sp.seed = 11;
    Sampler s(sp, {});
    for (int i = 0; i < 200; ++i) {
      auto l = logits_of({0.f, 1.f, 0.9f, 0.2f});
      const int id = s.next(l.data(), 4);
      CHECK(id == 1 || id == 2, "top-k 2 sampled %d", id);
    }
  }
  // Repetition penalty (HF): positive / r, negative · r, each seen token once.
  {
    auto l = logits_of({2.f, -2.f, 1.f});
    apply_repetition_penalty(l.data(), 3, {0, 1, 1}, 2.f);
    CHECK(l[0] == 1.f && l[1] == -4.f && l[2] == 1.f, "repetition: %g %g %g", l[0], l[1], l[2]);
    // It changes the greedy choice: token 0 seen in the prompt loses to token 2.
    SamplingParams sp;
    sp.repetition_penalty = 3.f;
    Sampler s(sp, {0});
    auto m = logits_of({2.f, 0.f, 1.f});
    CHECK(s.next(m.data(), 3) == 2, "penalised prompt token loses");
  }
  // Presence / frequency (OpenAI): subtract presence once and frequency per occurrence.
  {
    auto l = logits_of({1.f, 1.f, 1.f});
    apply_presence_frequency(l.data(), 3, {{0, 3}, {2, 1}}, 0.5f, 0.25f);
    CHECK(std::fabs(l[0] - (1.f - 0.5f - 0.75f)) < 1e-6 && l[1] == 1.f && std::fabs(l[2] - 0.25f) < 1e-6,
          "presence/frequency: %g %g %g", l[0], l[1], l[2]);
    // Greedy with presence penalty alternates between two equal tokens.
    SamplingParams sp;
    sp.presence_penalty = 1.f;
    Sampler s(sp, {});
    auto a = logits_of({1.f, 0.9f}); const int first = s.next(a.data(), 2);
    auto b = logits_of({1.f, 0.9f}); const int second = s.next(b.data(), 2);
    CHECK(first == 0 && second == 1, "presence penalty moves greedy off a used token (%d %d)", first, second);
  }
  // Stop ids.
  {
    SamplingParams sp;
    sp.stop_ids = {5, 9};
    Sampler s(sp, {});
    CHECK(s.is_stop(5) && s.is_stop(9) && !s.is_stop(4), "stop ids");
  }
  return kk_test::finish("test_sampling");
}

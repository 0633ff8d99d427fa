// sampler.cpp — see sampler.h for the order and the semantics of each knob.
#include "sample/sampler.h"
#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace kk {
namespace {

// Softmax probabilities of the finite logits (others 0), returned with the max logit's index.
std::vector<double> probs(const float* logits, int vocab) {
  float mx = -INFINITY;
  for (int i = 0; i < vocab; ++i) mx = std::max(mx, logits[i]);
  std::vector<double> p(vocab, 0.0);
  double sum = 0;
  for (int i = 0; i < vocab; ++i)
    if (std::isfinite(logits[i])) { p[i] = std::exp(double(logits[i]) - mx); sum += p[i]; }
  for (auto& v : p) v /= sum;
  return p;
}

}  // namespace

int32_t argmax(const float* logits, int vocab) {
  int best = 0;
  for (int i = 1; i < vocab; ++i) if (logits[i] > logits[best]) best = i;
  return best;
}

void mask_top_k(float* logits, int vocab, int k) {
  if (k <= 0 || k >= vocab) return;
  std::vector<float> v(logits, logits + vocab);
  std::nth_element(v.begin(), v.begin() + (k - 1), v.end(), std::greater<float>());
  const float kth = v[k - 1];
  // Ties at the k-th value are kept (as torch.topk-based masking with `<` does).
  for (int i = 0; i < vocab; ++i) if (logits[i] < kth) logits[i] = -INFINITY;
}

void mask_top_p(float* logits, int vocab, float p) {
  if (p >= 1.f) return;
  std::vector<double> pr = probs(logits, vocab);
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return pr[a] > pr[b]; });
  double cum = 0;
  int keep = 0;
  while (keep < vocab) {  // keep tokens until the kept mass reaches p (the crossing one included)
    cum += pr[order[keep]];
    ++keep;
    if (cum >= p) break;
  }
  for (int r = keep; r < vocab; ++r) logits[order[r]] = -INFINITY;
}

void mask_min_p(float* logits, int vocab, float min_p) {
  if (min_p <= 0.f) return;
  std::vector<double> pr = probs(logits, vocab);
  const double cut = min_p * *std::max_element(pr.begin(), pr.end());
  for (int i = 0; i < vocab; ++i) if (pr[i] < cut) logits[i] = -INFINITY;
}

void apply_repetition_penalty(float* logits, int vocab, const std::vector<int32_t>& seen, float r) {
  if (r == 1.f) return;
  std::unordered_set<int32_t> once(seen.begin(), seen.end());  // each token penalised once
  for (int32_t id : once) {
    if (id < 0 || id >= vocab) continue;
    logits[id] = logits[id] > 0 ? logits[id] / r : logits[id] * r;
  }
}

void apply_presence_frequency(float* logits, int vocab, const std::unordered_map<int32_t, int>& counts,
                              float presence, float frequency) {
  if (presence == 0.f && frequency == 0.f) return;
  for (const auto& [id, n] : counts) {
    if (id < 0 || id >= vocab || n <= 0) continue;
    logits[id] -= presence + frequency * float(n);
  }
}

Sampler::Sampler(const SamplingParams& sp, const std::vector<int32_t>& prompt)
    : sp_(sp), rng_(sp.seed), seen_(prompt) {}

bool Sampler::is_stop(int32_t id) const {
  return std::find(sp_.stop_ids.begin(), sp_.stop_ids.end(), id) != sp_.stop_ids.end();
}

int32_t Sampler::next(float* logits, int vocab) {
  apply_repetition_penalty(logits, vocab, seen_, sp_.repetition_penalty);
  apply_presence_frequency(logits, vocab, counts_, sp_.presence_penalty, sp_.frequency_penalty);
  int32_t id;
  if (sp_.temperature <= 0.f) {
    id = argmax(logits, vocab);
  } else {
    for (int i = 0; i < vocab; ++i) logits[i] /= sp_.temperature;
    mask_top_k(logits, vocab, sp_.top_k);
    mask_top_p(logits, vocab, sp_.top_p);
    mask_min_p(logits, vocab, sp_.min_p);
    std::vector<double> pr = probs(logits, vocab);
    const double u = rng_.uniform();
    double cum = 0;
    id = argmax(logits, vocab);  // fallback if rounding leaves u above the total
    for (int i = 0; i < vocab; ++i) {
      if (pr[i] <= 0) continue;
      cum += pr[i];
      if (u < cum) { id = i; break; }
    }
  }
  seen_.push_back(id);
  counts_[id] += 1;
  return id;
}

}  // namespace kk

// sampler.h — next-token choice from logits: penalties, temperature, top-k, top-p, min-p, seed.
// Order (as HF / vLLM): penalties → greedy or (temperature → top-k → top-p → min-p → draw).
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>
#include "karakoram/types.h"
#include "sample/rng.h"

namespace kk {

// Masks set logits to -inf. Each keeps at least the best token.
void mask_top_k(float* logits, int vocab, int k);           // k <= 0: off
void mask_top_p(float* logits, int vocab, float p);         // smallest set with Σ prob ≥ p
void mask_min_p(float* logits, int vocab, float min_p);     // prob < min_p · max prob
// HF repetition penalty over `seen` (prompt + generated): positive logits / r, negative · r.
void apply_repetition_penalty(float* logits, int vocab, const std::vector<int32_t>& seen, float r);
// OpenAI penalties over generated tokens: logit -= presence·[count > 0] + frequency·count.
void apply_presence_frequency(float* logits, int vocab, const std::unordered_map<int32_t, int>& counts,
                              float presence, float frequency);
int32_t argmax(const float* logits, int vocab);

class Sampler {
 public:
  Sampler(const SamplingParams& sp, const std::vector<int32_t>& prompt);
  // Picks the next token from `logits` (modified in place) and records it as generated.
  int32_t next(float* logits, int vocab);
  bool is_stop(int32_t id) const;

 private:
  SamplingParams sp_;
  Rng rng_;
  std::vector<int32_t> seen_;                 // prompt + generated (repetition penalty)
  std::unordered_map<int32_t, int> counts_;   // generated only (presence / frequency)
};

}  // namespace kk

// synthetic_weights.h — random-weight models built directly in memory (no disk) for the bench:
// "k2" has Kimi K2's real dimensions (INT4 routed experts, bf16 rest), "tiny" tiny-k2's.
#pragma once
#include <string>
#include "core/thread_pool.h"
#include "model/weights.h"

namespace kk {

struct SyntheticSpec {
  std::string preset = "tiny";  // "k2" | "tiny"
  int layers = -1;              // -1: preset default (k2: 2 = one dense + one MoE layer)
  int experts = -1;             // -1: preset's count (k2: 384), or fewer if RAM is short (see note)
  int vocab = -1;               // -1: preset's vocabulary
  bool tie_embeddings = true;   // lm_head reads the embedding matrix (saves one vocab x hidden copy)
  uint64_t seed = 1;
};

// Parses "k2:layers=2:experts=64:vocab=32000" (fields optional) into spec.
Status parse_synthetic_spec(const std::string& s, SyntheticSpec* out);
ModelConfig synthetic_config(const SyntheticSpec& spec);
// Bytes the weights will take (before the engine's derived tensors).
int64_t synthetic_bytes(const ModelConfig& c, bool tied);
// Builds the weights with `pool` filling them. `note` says what differs from the real model.
Status build_synthetic_weights(const SyntheticSpec& spec, ThreadPool& pool, ModelWeights* out,
                               std::string* note);

// Random weights for any config (bf16 dense weights, INT4 routed experts, unit norms, zero bias);
// lm_head aliases the embedding when c.tie_word_embeddings.
Status build_random_weights(const ModelConfig& c, ThreadPool& pool, uint64_t seed, ModelWeights* out);

}  // namespace kk

// test_forward_variants.cpp — the config knobs tiny-k2 does not exercise, on random weights:
// plain q_proj (q_lora_rank null, Moonlight), no rope scaling, two shared experts,
// group-limited routing (n_group / topk_group as DeepSeek-V3), YaRN with beta_fast 32 and
// mscale ≠ mscale_all_dim. Each must give the same logits batched (naive attention) and token by
// token through the latent cache (absorbed attention).
#include <cmath>
#include <random>
#include "engine/engine_impl.h"
#include "harness/synthetic_weights.h"
#include "test_util.h"

using namespace kk;

namespace {

void check_config(const char* name, const ModelConfig& c) {
  ThreadPool pool(2);
  ModelWeights w;
  Status s = build_random_weights(c, pool, 7, &w);
  CHECK(s.ok(), "%s: weights: %s", name, s.message().c_str());
  LoadOptions lo;
  lo.threads = 2;
  lo.max_sequences = 2;
  lo.max_context = 64;
  std::unique_ptr<EngineImpl> e;
  s = EngineImpl::create(std::move(w), lo, &e);
  CHECK(s.ok(), "%s: engine: %s", name, s.message().c_str());
  if (!s.ok()) return;
  const int V = c.vocab_size;
  std::mt19937 rng(3);
  std::vector<int32_t> ids(24);
  for (auto& x : ids) x = int32_t(rng() % V);
  SeqId a, b;
  CHECK(e->new_sequence(&a).ok() && e->new_sequence(&b).ok(), "%s: sequences", name);
  ForwardRequest req;
  req.all_logits = true;
  ForwardResult all;
  CHECK(e->forward(a, ids.data(), int(ids.size()), req, &all).ok(), "%s: prefill", name);
  double err = 0, mag = 0;
  bool finite = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    ForwardResult r;
    CHECK(e->forward(b, &ids[i], 1, ForwardRequest(), &r).ok(), "%s: decode", name);
    for (int j = 0; j < V; ++j) {
      const float ref = all.logits[i * V + j];
      finite = finite && std::isfinite(ref);
      mag = std::max(mag, double(std::fabs(ref)));
      err = std::max(err, double(std::fabs(r.logits[j] - ref)));
    }
  }
  CHECK(finite && mag > 0, "%s: logits finite and non-zero", name);
  CHECK(err <= 1e-4 * std::max(1.0, mag), "%s: prefill vs decode %.3e (logit scale %.3g)", name, err, mag);
  std::printf("%s: prefill vs decode %.3e (logit scale %.3g)\n", name, err, mag);
}

}  // namespace

int main() {
  SyntheticSpec tiny;
  const ModelConfig base = synthetic_config(tiny);

  ModelConfig moonlight = base;  // q_proj, no rope scaling, 2 shared experts, groups
  moonlight.q_lora_rank = 0;
  moonlight.rope_scaling = RopeScaling();
  moonlight.n_shared_experts = 2;
  moonlight.n_group = 4;
  moonlight.topk_group = 2;
  moonlight.tie_word_embeddings = false;
  check_config("moonlight-like", moonlight);

  ModelConfig dsv3 = base;  // DeepSeek-V3 routing and rope
  dsv3.n_group = 8;
  dsv3.topk_group = 4;
  dsv3.first_k_dense_replace = 2;
  dsv3.rope_scaling.factor = 40.0;
  dsv3.rope_scaling.beta_fast = 32.0;
  dsv3.rope_scaling.mscale = 1.0;
  dsv3.rope_scaling.mscale_all_dim = 0.707;
  check_config("deepseek-v3-like", dsv3);
  return kk_test::finish("test_forward_variants");
}

// loader.cpp — load_checkpoint: config -> the list of tensors it implies -> validated sources
// (pass 1, nothing converted yet) -> engine tensors (pass 2: views, copies, INT4 repack).
#include "loader/loader.h"

#include <exception>
#include <memory>

#include "core/q4x16.h"
#include "core/thread_pool.h"
#include "loader/checkpoint.h"
#include "loader/layout_cache.h"
#include "loader/linear.h"

namespace kk {
namespace {

const char* kProj[3] = {"gate_proj", "up_proj", "down_proj"};

struct MlpPlan { LinearSrc gate, up, down; };

struct LayerPlan {
  TensorRef in_norm, post_norm, q_a_norm, kv_a_norm;
  LinearSrc q_a, q_b, q, kv_a, kv_b, o;
  bool moe = false;
  MlpPlan mlp, shared;
  bool has_shared = false;
  TensorRef router, router_bias;
  std::vector<LinearSrc> experts[3];
};

const std::vector<std::string> kFloat = {"BF16", "F16", "F32"};

Status plan_mlp(const Checkpoint& ck, const std::string& p, int64_t hidden, int64_t inter, MlpPlan* m) {
  KK_RETURN_IF_ERROR(resolve_linear(ck, p + ".gate_proj", inter, hidden, &m->gate));
  KK_RETURN_IF_ERROR(resolve_linear(ck, p + ".up_proj", inter, hidden, &m->up));
  return resolve_linear(ck, p + ".down_proj", hidden, inter, &m->down);
}

Status plan_layer(const Checkpoint& ck, int l, LayerPlan* lp) {
  const ModelConfig& c = ck.config();
  const std::string p = "model.layers." + std::to_string(l);
  const int64_t H = c.hidden_size, nh = c.num_attention_heads;
  KK_RETURN_IF_ERROR(ck.get_checked(p + ".input_layernorm.weight", kFloat, {H}, &lp->in_norm));
  KK_RETURN_IF_ERROR(ck.get_checked(p + ".post_attention_layernorm.weight", kFloat, {H}, &lp->post_norm));
  const std::string a = p + ".self_attn";
  if (c.q_lora_rank > 0) {
    KK_RETURN_IF_ERROR(resolve_linear(ck, a + ".q_a_proj", c.q_lora_rank, H, &lp->q_a));
    KK_RETURN_IF_ERROR(ck.get_checked(a + ".q_a_layernorm.weight", kFloat, {c.q_lora_rank}, &lp->q_a_norm));
    KK_RETURN_IF_ERROR(resolve_linear(ck, a + ".q_b_proj", nh * c.qk_head_dim(), c.q_lora_rank, &lp->q_b));
  } else {
    KK_RETURN_IF_ERROR(resolve_linear(ck, a + ".q_proj", nh * c.qk_head_dim(), H, &lp->q));
  }
  KK_RETURN_IF_ERROR(resolve_linear(ck, a + ".kv_a_proj_with_mqa", c.kv_lora_rank + c.qk_rope_head_dim, H, &lp->kv_a));
  KK_RETURN_IF_ERROR(ck.get_checked(a + ".kv_a_layernorm.weight", kFloat, {c.kv_lora_rank}, &lp->kv_a_norm));
  KK_RETURN_IF_ERROR(resolve_linear(ck, a + ".kv_b_proj", nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank, &lp->kv_b));
  KK_RETURN_IF_ERROR(resolve_linear(ck, a + ".o_proj", H, nh * c.v_head_dim, &lp->o));

  lp->moe = c.is_moe_layer(l);
  if (!lp->moe) return plan_mlp(ck, p + ".mlp", H, c.intermediate_size, &lp->mlp);
  const int64_t E = c.n_routed_experts, I = c.moe_intermediate_size;
  KK_RETURN_IF_ERROR(ck.get_checked(p + ".mlp.gate.weight", kFloat, {E, H}, &lp->router));
  const std::string bias = p + ".mlp.gate.e_score_correction_bias";
  // noaux_tc routing needs the correction bias; other methods may carry one.
  if (c.topk_method == "noaux_tc" || ck.has(bias))
    KK_RETURN_IF_ERROR(ck.get_checked(bias, kFloat, {E}, &lp->router_bias));
  for (int k = 0; k < 3; k++) lp->experts[k].resize(size_t(E));
  for (int64_t e = 0; e < E; e++) {
    const std::string ep = p + ".mlp.experts." + std::to_string(e);
    KK_RETURN_IF_ERROR(resolve_linear(ck, ep + ".gate_proj", I, H, &lp->experts[0][e]));
    KK_RETURN_IF_ERROR(resolve_linear(ck, ep + ".up_proj", I, H, &lp->experts[1][e]));
    KK_RETURN_IF_ERROR(resolve_linear(ck, ep + ".down_proj", H, I, &lp->experts[2][e]));
  }
  lp->has_shared = c.n_shared_experts > 0;
  if (lp->has_shared) KK_RETURN_IF_ERROR(plan_mlp(ck, p + ".mlp.shared_experts", H, I * c.n_shared_experts, &lp->shared));
  return Status::OK();
}

Status build_mlp(const MlpPlan& m, MlpWeights* w) {
  KK_RETURN_IF_ERROR(linear_tensor(m.gate, &w->gate_proj));
  KK_RETURN_IF_ERROR(linear_tensor(m.up, &w->up_proj));
  return linear_tensor(m.down, &w->down_proj);
}

Status build_layer(const ModelConfig& c, const LayerPlan& lp, LayerWeights* w) {
  KK_RETURN_IF_ERROR(f32_vector(lp.in_norm, &w->input_layernorm));
  KK_RETURN_IF_ERROR(f32_vector(lp.post_norm, &w->post_attention_layernorm));
  AttentionWeights& at = w->attn;
  if (c.q_lora_rank > 0) {
    KK_RETURN_IF_ERROR(linear_tensor(lp.q_a, &at.q_a_proj));
    KK_RETURN_IF_ERROR(f32_vector(lp.q_a_norm, &at.q_a_norm));
    KK_RETURN_IF_ERROR(linear_tensor(lp.q_b, &at.q_b_proj));
  } else {
    KK_RETURN_IF_ERROR(linear_tensor(lp.q, &at.q_proj));
  }
  KK_RETURN_IF_ERROR(linear_tensor(lp.kv_a, &at.kv_a_proj_with_mqa));
  KK_RETURN_IF_ERROR(f32_vector(lp.kv_a_norm, &at.kv_a_norm));
  KK_RETURN_IF_ERROR(linear_tensor(lp.kv_b, &at.kv_b_proj));
  KK_RETURN_IF_ERROR(linear_tensor(lp.o, &at.o_proj));
  w->is_moe = lp.moe;
  if (!lp.moe) return build_mlp(lp.mlp, &w->mlp);
  LinearSrc router;
  router.module = lp.router.t->name;
  router.weight = lp.router;
  router.out = lp.router.t->shape[0];
  router.in = lp.router.t->shape[1];
  KK_RETURN_IF_ERROR(linear_tensor(router, &w->moe.router));
  if (lp.router_bias.valid()) KK_RETURN_IF_ERROR(f32_vector(lp.router_bias, &w->moe.router_bias));
  if (lp.has_shared) KK_RETURN_IF_ERROR(build_mlp(lp.shared, &w->moe.shared));
  return Status::OK();
}

Status load(const std::string& dir, const LoaderOptions& opts, const ProgressFn& progress, ModelWeights* out) {
  Checkpoint ck;
  KK_RETURN_IF_ERROR(ck.open(dir, progress));
  const ModelConfig& c = ck.config();

  // Pass 1: every tensor the config implies, present with the right dtype and shape.
  TensorRef embed, norm;
  LinearSrc lm_head;
  KK_RETURN_IF_ERROR(ck.get("model.embed_tokens.weight", &embed));
  if (embed.t->shape.size() == 2 && embed.t->shape[0] != c.vocab_size)
    return tensor_error(embed, "has " + std::to_string(embed.t->shape[0]) + " rows but " + ck.config_path() +
                                   " says vocab_size " + std::to_string(c.vocab_size) + " (vocab mismatch)");
  KK_RETURN_IF_ERROR(ck.get_checked("model.embed_tokens.weight", kFloat, {c.vocab_size, c.hidden_size}, &embed));
  KK_RETURN_IF_ERROR(ck.get_checked("model.norm.weight", kFloat, {c.hidden_size}, &norm));
  if (!c.tie_word_embeddings) {
    TensorRef lm;
    if (ck.get("lm_head.weight", &lm).ok() && lm.t->shape.size() == 2 && lm.t->shape[0] != c.vocab_size)
      return tensor_error(lm, "has " + std::to_string(lm.t->shape[0]) + " rows but " + ck.config_path() +
                                  " says vocab_size " + std::to_string(c.vocab_size) + " (vocab mismatch)");
    KK_RETURN_IF_ERROR(resolve_linear(ck, "lm_head", c.vocab_size, c.hidden_size, &lm_head));
  }
  std::vector<LayerPlan> plans(size_t(c.num_hidden_layers));
  for (int l = 0; l < c.num_hidden_layers; l++) KK_RETURN_IF_ERROR(plan_layer(ck, l, &plans[l]));

  // Pass 2: build the engine's tensors.
  ModelWeights w;
  w.config = c;
  w.mappings = ck.mappings();
  LinearSrc emb;
  emb.module = "model.embed_tokens";
  emb.weight = embed;
  emb.out = c.vocab_size;
  emb.in = c.hidden_size;
  KK_RETURN_IF_ERROR(linear_tensor(emb, &w.embed_tokens));
  KK_RETURN_IF_ERROR(f32_vector(norm, &w.norm));
  if (c.tie_word_embeddings) w.lm_head = w.embed_tokens;
  else KK_RETURN_IF_ERROR(linear_tensor(lm_head, &w.lm_head));
  w.layers.resize(plans.size());
  for (size_t l = 0; l < plans.size(); l++) {
    KK_RETURN_IF_ERROR(build_layer(c, plans[l], &w.layers[l]));
    if (progress) progress("weights", double(l + 1) / double(plans.size()));
  }
  int moe_layers = 0, done = 0;
  for (const auto& p : plans) moe_layers += p.moe;
  const std::string cache = opts.layout_cache_dir.empty()
                                ? std::string() : layout_cache_folder(opts.layout_cache_dir, dir, opts.requantize);
  std::unique_ptr<ThreadPool> pool;
  for (size_t l = 0; l < plans.size(); l++) {
    if (!plans[l].moe) continue;
    MoeWeights& m = w.layers[l].moe;
    Tensor* dst[3] = {&m.gate_exps, &m.up_exps, &m.down_exps};
    for (int k = 0; k < 3; k++) {
      const std::string name = "model.layers." + std::to_string(l) + ".mlp.experts." + kProj[k];
      const LinearSrc& e0 = plans[l].experts[k][0];
      const std::vector<int64_t> shape = {int64_t(plans[l].experts[k].size()), e0.out, e0.in};
      const std::string path = cache.empty() ? std::string() : cache + "/" + name + ".q4x16";
      std::shared_ptr<void> mapping;
      if (!path.empty() && layout_cache_map(path, name, shape, dst[k], &mapping, nullptr)) {
        w.mappings.push_back(std::move(mapping));  // the experts' bytes are never read from the checkpoint
        if (progress) progress("repack", double(done * 3 + k + 1) / double(moe_layers * 3));
        continue;
      }
      KK_RETURN_IF_ERROR(stack_experts(plans[l].experts[k], opts.requantize, name, dst[k]));
      if (!path.empty() && q4x16_eligible(*dst[k])) {
        // Missing, stale or damaged: rebuilt from the checkpoint and written anew. A cache that
        // cannot be written (read-only or full disk) is not an error: this load has the bytes.
        if (!pool) pool.reset(new ThreadPool(opts.threads));
        KK_RETURN_IF_ERROR(q4x16_repack(dst[k], pool.get()));
        (void)layout_cache_write(path, *dst[k]);
      }
      if (progress) progress("repack", double(done * 3 + k + 1) / double(moe_layers * 3));
    }
    done++;
  }
  *out = std::move(w);
  return Status::OK();
}

}  // namespace

Status load_checkpoint(const std::string& dir, const LoaderOptions& opts, const ProgressFn& progress,
                       ModelWeights* out) {
  try {
    return load(dir, opts, progress, out);
  } catch (const std::bad_alloc&) {
    return Status::Error(dir + ": out of memory while loading");
  } catch (const std::exception& e) {
    return Status::Error(dir + ": " + e.what());
  }
}

}  // namespace kk

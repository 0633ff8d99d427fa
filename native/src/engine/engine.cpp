// engine.cpp — Engine: weights + model + thread pool + op dispatch + KV pool.
#include "engine/engine_impl.h"
#include <algorithm>
#include <chrono>
#include <new>
#include <cstdio>
#include <unistd.h>
#include <unordered_set>
#include "loader/loader.h"
#include "sample/sampler.h"

namespace kk {
namespace {

int64_t tensor_bytes(const Tensor& t) { return t.empty() ? 0 : int64_t(t.nbytes()); }
int64_t tensor_params(const Tensor& t) { return t.empty() ? 0 : t.numel(); }

void fill_info(const ModelWeights& w, ModelInfo* info) {
  const ModelConfig& c = w.config;
  info->model_type = c.model_type;
  info->architecture = c.architecture;
  info->quantization = c.quant.method == "compressed-tensors" ? "int4-compressed-tensors"
                       : c.quant.method == "fp8"               ? "fp8-block"
                       : c.quant.method.empty()                ? "bf16"
                                                               : c.quant.method;
  info->n_layers = c.num_hidden_layers;
  info->n_dense_layers = 0;
  for (int l = 0; l < c.num_hidden_layers; ++l) info->n_dense_layers += c.is_moe_layer(l) ? 0 : 1;
  info->hidden = c.hidden_size;
  info->n_heads = c.num_attention_heads;
  info->vocab = c.vocab_size;
  info->n_experts = c.n_routed_experts;
  info->top_k = c.num_experts_per_tok;
  info->n_shared_experts = c.n_shared_experts;
  info->moe_intermediate = c.moe_intermediate_size;
  info->q_lora_rank = c.q_lora_rank;
  info->kv_lora_rank = c.kv_lora_rank;
  info->max_position = c.max_position_embeddings;
  info->bos_id = c.bos_token_id;
  info->eos_id = c.eos_token_id;
  int64_t params = 0, bytes = 0, experts = 0;
  auto add = [&](const Tensor& t) { params += tensor_params(t); bytes += tensor_bytes(t); };
  add(w.embed_tokens);
  add(w.norm);
  if (w.lm_head.data != w.embed_tokens.data) add(w.lm_head);
  for (const LayerWeights& l : w.layers) {
    for (const Tensor* t : {&l.input_layernorm, &l.post_attention_layernorm, &l.attn.q_a_proj,
                            &l.attn.q_a_norm, &l.attn.q_b_proj, &l.attn.q_proj,
                            &l.attn.kv_a_proj_with_mqa, &l.attn.kv_a_norm, &l.attn.kv_b_proj,
                            &l.attn.o_proj, &l.mlp.gate_proj, &l.mlp.up_proj, &l.mlp.down_proj,
                            &l.moe.router, &l.moe.router_bias, &l.moe.shared.gate_proj,
                            &l.moe.shared.up_proj, &l.moe.shared.down_proj})
      add(*t);
    for (const Tensor* t : {&l.moe.gate_exps, &l.moe.up_exps, &l.moe.down_exps}) {
      add(*t);
      experts += tensor_bytes(*t);
    }
  }
  info->n_params = params;
  info->bytes_weights = bytes;
  info->bytes_experts = experts;
  info->kv_bytes_per_token = int64_t(c.num_hidden_layers) * (c.kv_lora_rank + c.qk_rope_head_dim) * 4;
}

// Runs the model, turning an allocation failure into a Status (the engine never throws or aborts).
Status run_model(const Model& m, const OpDispatch& ops, const Batch& b, const ForwardOptions& fo,
                 ForwardResult* out) {
  try {
    m.forward(ops, b, fo, out);
  } catch (const std::bad_alloc&) {
    return Status::Error("forward: out of memory for " + std::to_string(b.n_tokens()) + " tokens");
  }
  return Status::OK();
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Status Engine::load(const std::string& dir, const LoadOptions& opts, const ProgressFn& progress,
                    std::unique_ptr<Engine>* out) {
  ModelWeights w;
  LoaderOptions lo;
  lo.requantize = opts.requantize;
  KK_RETURN_IF_ERROR(load_checkpoint(dir, lo, progress, &w));
  std::unique_ptr<EngineImpl> e;
  KK_RETURN_IF_ERROR(EngineImpl::create(std::move(w), opts, &e));
  *out = std::move(e);
  return Status::OK();
}

Status EngineImpl::create(ModelWeights&& w, const LoadOptions& opts, std::unique_ptr<EngineImpl>* out) {
  if (opts.mode != "exact" && opts.mode != "fast")
    return Status::Error("unknown mode '" + opts.mode + "' (exact | fast)");
  const Backend* backend = nullptr;
  KK_RETURN_IF_ERROR(find_backend(opts.backend, &backend));
  std::unique_ptr<EngineImpl> e(new EngineImpl());
  fill_info(w, &e->info_);
  try {
    KK_RETURN_IF_ERROR(e->model_.init(std::move(w)));
  } catch (const std::bad_alloc&) {
    return Status::Error("load: out of memory preparing the attention weights");
  }
  e->info_.bytes_weights += e->model_.derived_bytes();
  e->pool_threads_.reset(new ThreadPool(opts.threads));
  OpContext ctx;
  ctx.pool = e->pool_threads_.get();
  ctx.kernels = &cpu::kernels_best();
  // Repack only where the chosen backend computes on block_q4x16 itself (the CUDA plugin takes
  // block_q4 rows, so with it the weights stay as they are).
  if (opts.repack_q4 && ctx.kernels->q4x16_native && backend->supports(Op::MatMul, DType::Q4X16) &&
      backend->supports(Op::Moe, DType::Q4X16)) {
    int64_t repacked = 0;
    KK_RETURN_IF_ERROR(e->model_.repack_q4x16(ctx.pool, &repacked));
    if (repacked > 0) e->info_.q4_layout = "x16";
  }
  ctx.fast = opts.mode == "fast";
  e->ops_ = OpDispatch(backend, ctx);
  e->info_.backend = backend->name;
  e->info_.kernels = ctx.kernels->name;
  const ModelConfig& c = e->model_.config();
  KK_RETURN_IF_ERROR(e->pool_.init(opts.max_sequences, opts.max_context, c.num_hidden_layers, e->model_.kv_row()));
  *out = std::move(e);
  return Status::OK();
}

Status EngineImpl::new_sequence(SeqId* out) {
  std::lock_guard<std::mutex> g(pool_mu_);
  return pool_.alloc(out);
}

Status EngineImpl::fork_sequence(SeqId src, int n_prefix, SeqId* out) {
  std::lock_guard<std::mutex> g(pool_mu_);
  if (!pool_.valid(src)) return Status::Error("fork_sequence: no sequence " + std::to_string(src));
  if (n_prefix < 0 || n_prefix > pool_.length(src))
    return Status::Error("fork_sequence: prefix " + std::to_string(n_prefix) + " longer than sequence (" +
                         std::to_string(pool_.length(src)) + " tokens)");
  KK_RETURN_IF_ERROR(pool_.alloc(out));
  pool_.copy_prefix(src, *out, n_prefix);
  return Status::OK();
}

void EngineImpl::free_sequence(SeqId seq) {
  std::lock_guard<std::mutex> g(pool_mu_);
  pool_.release(seq);
}

int EngineImpl::sequence_length(SeqId seq) const {
  std::lock_guard<std::mutex> g(pool_mu_);
  return int(pool_.length(seq));
}

Status EngineImpl::check_ids(const int32_t* ids, int n) const {
  for (int i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= model_.config().vocab_size)
      return Status::Error("token id " + std::to_string(ids[i]) + " outside the vocabulary (" +
                           std::to_string(model_.config().vocab_size) + ")");
  return Status::OK();
}

Status EngineImpl::forward(SeqId seq, const int32_t* ids, int n, const ForwardRequest& req,
                           ForwardResult* out) {
  ForwardOptions fo;
  fo.all_logits = req.all_logits;
  fo.hidden = req.hidden;
  fo.router_topk = req.router_topk;
  return forward_ex(seq, ids, n, fo, out);
}

// Long prompts run in chunks of kPrefillChunk tokens (each attends to the cache and itself), so
// activations and the expanded keys stay bounded whatever the prompt length.
constexpr int kPrefillChunk = 512;

Status EngineImpl::forward_ex(SeqId seq, const int32_t* ids, int n, const ForwardOptions& fo,
                              ForwardResult* out, const PrefillFn& on_chunk) {
  if (n <= 0) return Status::Error("forward: no tokens");
  KK_RETURN_IF_ERROR(check_ids(ids, n));
  KvView kv;
  int64_t len;
  {
    std::lock_guard<std::mutex> g(pool_mu_);
    if (!pool_.valid(seq)) return Status::Error("forward: no sequence " + std::to_string(seq));
    len = pool_.length(seq);
    if (len + n > pool_.max_context())
      return Status::Error("forward: " + std::to_string(len + n) + " tokens exceed the context of " +
                           std::to_string(pool_.max_context()));
    kv = pool_.view(seq);
  }
  std::lock_guard<std::mutex> run(run_mu_);
  *out = ForwardResult();
  for (int done = 0; done < n;) {
    const int m = std::min(kPrefillChunk, n - done);
    Batch b;
    b.ids = ids + done;
    b.spans.push_back(Span{kv, len + done, m});
    ForwardResult part;
    const Status st = run_model(model_, ops_, b, fo, &part);
    if (!st.ok()) {  // a failed forward leaves the sequence as it was
      std::lock_guard<std::mutex> g(pool_mu_);
      pool_.set_length(seq, len);
      return st;
    }
    done += m;
    // Concatenate along tokens (last-token logits: keep the latest chunk's).
    if (fo.all_logits || done == n) {
      if (!fo.all_logits) out->logits.clear();
      out->logits.insert(out->logits.end(), part.logits.begin(), part.logits.end());
    }
    if (out->hidden.empty()) out->hidden.resize(part.hidden.size());
    for (size_t k = 0; k < part.hidden.size(); ++k)
      out->hidden[k].insert(out->hidden[k].end(), part.hidden[k].begin(), part.hidden[k].end());
    if (out->router_topk.empty()) out->router_topk.resize(part.router_topk.size());
    for (size_t k = 0; k < part.router_topk.size(); ++k)
      out->router_topk[k].insert(out->router_topk[k].end(), part.router_topk[k].begin(), part.router_topk[k].end());
    {
      std::lock_guard<std::mutex> g(pool_mu_);
      pool_.set_length(seq, len + done);
    }
    if (on_chunk) on_chunk(done, n);
  }
  return Status::OK();
}

Status EngineImpl::decode_batch(const std::vector<SeqId>& seqs, const std::vector<int32_t>& ids,
                                std::vector<std::vector<float>>* logits) {
  return decode_batch_ex(seqs, ids, nullptr, logits);
}

Status EngineImpl::decode_batch_ex(const std::vector<SeqId>& seqs, const std::vector<int32_t>& ids,
                                   Profile* profile, std::vector<std::vector<float>>* logits) {
  if (seqs.empty() || seqs.size() != ids.size())
    return Status::Error("decode_batch: need one token per sequence");
  KK_RETURN_IF_ERROR(check_ids(ids.data(), int(ids.size())));
  Batch b;
  b.ids = ids.data();
  {
    std::lock_guard<std::mutex> g(pool_mu_);
    std::unordered_set<SeqId> distinct;
    for (SeqId s : seqs) {
      if (!pool_.valid(s)) return Status::Error("decode_batch: no sequence " + std::to_string(s));
      if (!distinct.insert(s).second) return Status::Error("decode_batch: sequence " + std::to_string(s) + " twice");
      if (pool_.length(s) + 1 > pool_.max_context())
        return Status::Error("decode_batch: sequence " + std::to_string(s) + " is at the context limit");
      b.spans.push_back(Span{pool_.view(s), pool_.length(s), 1});
    }
  }
  ForwardOptions fo;
  fo.profile = profile;
  ForwardResult r;
  {
    std::lock_guard<std::mutex> run(run_mu_);
    KK_RETURN_IF_ERROR(run_model(model_, ops_, b, fo, &r));
  }
  const int64_t V = model_.config().vocab_size;
  logits->assign(seqs.size(), {});
  std::lock_guard<std::mutex> g(pool_mu_);
  for (size_t i = 0; i < seqs.size(); ++i) {
    (*logits)[i].assign(r.logits.begin() + i * V, r.logits.begin() + (i + 1) * V);
    pool_.set_length(seqs[i], b.spans[i].pos0 + 1);
  }
  return Status::OK();
}

// Prefill, then sample / decode until a stop id (kept in the output, as HF does), max_tokens,
// the context limit, or on_token returning false.
Status EngineImpl::generate(const std::vector<int32_t>& prompt, const SamplingParams& sp,
                            const TokenFn& on_token, GenerateResult* out, const PrefillFn& on_prefill) {
  *out = GenerateResult();
  if (prompt.empty()) return Status::Error("generate: empty prompt");
  SeqId seq;
  KK_RETURN_IF_ERROR(new_sequence(&seq));
  struct Release { EngineImpl* e; SeqId s; ~Release() { e->free_sequence(s); } } release{this, seq};
  const int V = model_.config().vocab_size;
  out->prompt_tokens = int(prompt.size());
  auto t0 = std::chrono::steady_clock::now();
  ForwardResult r;
  KK_RETURN_IF_ERROR(forward_ex(seq, prompt.data(), int(prompt.size()), ForwardOptions(), &r, on_prefill));
  Sampler sampler(sp, prompt);
  out->finish_reason = "length";
  bool first = true;
  while (out->completion_tokens < sp.max_tokens) {
    const int32_t id = sampler.next(r.logits.data(), V);
    if (first) { out->prefill_ms = ms_since(t0); t0 = std::chrono::steady_clock::now(); first = false; }
    out->output_ids.push_back(id);
    out->completion_tokens++;
    if (on_token && !on_token(id)) { out->finish_reason = "cancelled"; break; }
    if (sampler.is_stop(id)) { out->finish_reason = "stop"; break; }
    if (out->completion_tokens >= sp.max_tokens) break;
    if (sequence_length(seq) >= pool_.max_context()) break;
    KK_RETURN_IF_ERROR(forward(seq, &id, 1, ForwardRequest(), &r));
  }
  if (first) out->prefill_ms = ms_since(t0);
  else out->decode_ms = ms_since(t0);
  return Status::OK();
}

Engine::MemoryStats EngineImpl::memory_stats() const {
  MemoryStats m{};
  m.weights_bytes = info_.bytes_weights;
  {
    std::lock_guard<std::mutex> g(pool_mu_);
    m.kv_bytes_used = pool_.used_bytes();
    m.kv_bytes_capacity = pool_.capacity_bytes();
  }
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  m.rss_bytes = int64_t(resident) * sysconf(_SC_PAGESIZE);
  return m;
}

}  // namespace kk

// engine.cpp — Engine: weights + model + thread pool + op dispatch + KV pool.
#include "engine/engine_impl.h"
#include <algorithm>
#include <chrono>
#include <new>
#include <cstdio>
#include <unistd.h>
#include <unordered_set>
#include <future>
#include "backend/registry.h"
#include "backend_cuda/backend_cuda.h"
#include "engine/snapshot.h"
#include "loader/loader.h"
#include "placement/routing_stats.h"
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


// The KV pool's budget when the load options leave it open: this share of the RAM that is free
// once the weights are in, so a default load leaves room for the rest of the machine.
constexpr double kKvBudgetShareOfFreeRam = 0.5;
// Fast mode's cache precision when the load options name none, chosen by measurement
// (docs/engine-sessions.md, "Cache precision"): on tiny-k2 only fp32 keeps fast mode within its
// eval bounds (a bf16 cache flips a router choice, logits off by 1.2; fp8 by 2.9), so bf16 / fp8
// are opt-in memory savings.
constexpr char kDefaultFastKvDtype[] = "fp32";
// Without /proc/meminfo (or on a machine that reports nothing free): a modest fixed budget.
constexpr int64_t kKvBudgetFallbackBytes = int64_t(1) << 30;

int64_t default_kv_budget() {
  int64_t avail_kb = 0;
  if (FILE* f = std::fopen("/proc/meminfo", "r")) {
    char key[64];
    long long v;
    while (std::fscanf(f, "%63s %lld kB", key, &v) == 2)
      if (std::string(key) == "MemAvailable:") { avail_kb = v; break; }
    std::fclose(f);
  }
  if (avail_kb <= 0) return kKvBudgetFallbackBytes;
  return int64_t(double(avail_kb) * 1024 * kKvBudgetShareOfFreeRam);
}

}  // namespace

Status Engine::load(const std::string& dir, const LoadOptions& opts, const ProgressFn& progress,
                    std::unique_ptr<Engine>* out) {
  ModelWeights w;
  LoaderOptions lo;
  lo.requantize = opts.requantize;
  lo.threads = opts.threads;
  // The loader writes / maps block_q4x16 experts only where create() would repack them anyway.
  const Backend* backend = nullptr;
  if (!opts.layout_cache_dir.empty() && opts.repack_q4 && cpu::kernels_best().q4x16_native &&
      find_backend(opts.backend, &backend).ok() && backend->supports(Op::MatMul, DType::Q4X16) &&
      backend->supports(Op::Moe, DType::Q4X16))
    lo.layout_cache_dir = opts.layout_cache_dir;
  KK_RETURN_IF_ERROR(load_checkpoint(dir, lo, progress, &w));
  std::unique_ptr<EngineImpl> e;
  KK_RETURN_IF_ERROR(EngineImpl::create(std::move(w), opts, &e));
  if (e->on_cuda()) e->use_routing_stats_in(opts.routing_stats_dir);
  *out = std::move(e);
  return Status::OK();
}

Status EngineImpl::create(ModelWeights&& w, const LoadOptions& opts, std::unique_ptr<EngineImpl>* out) {
  if (opts.mode != "exact" && opts.mode != "fast")
    return Status::Error("unknown mode '" + opts.mode + "' (exact | fast)");
  if (opts.max_sequences <= 0 || opts.prefill_chunk <= 0 || opts.max_context < 0 || opts.kv_budget_bytes < 0)
    return Status::Error("load: max_sequences and prefill_chunk must be positive, max_context and the KV budget "
                         "not negative");
  int kv_dtype = KK_KV_F32;
  const std::string kv_name = opts.kv_dtype.empty() ? (opts.mode == "fast" ? kDefaultFastKvDtype : "fp32") : opts.kv_dtype;
  if (!kv_dtype_from_name(kv_name, &kv_dtype))
    return Status::Error("unknown kv_dtype '" + opts.kv_dtype + "' (fp32 | bf16 | fp8)");
  if (opts.mode == "exact" && kv_dtype != KK_KV_F32)
    return Status::Error("kv_dtype " + kv_name + " is a fast-mode cache: exact mode keeps the KV cache in fp32");
  if (opts.gpu_expert_budget_bytes < 0) return Status::Error("load: the GPU expert budget must not be negative");
  const Backend* backend = nullptr;
  KK_RETURN_IF_ERROR(find_backend(opts.backend, &backend));
  if (std::string(backend->name) == "cuda") cuda_backend_set_expert_budget(opts.gpu_expert_budget_bytes);
  std::unique_ptr<EngineImpl> e(new EngineImpl());
  e->on_cuda_ = std::string(backend->name) == "cuda";
  fill_info(w, &e->info_);
  e->fingerprint_ = model_fingerprint(w, opts.mode);
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
  const int64_t budget = opts.kv_budget_bytes > 0 ? opts.kv_budget_bytes : default_kv_budget();
  KK_RETURN_IF_ERROR(e->pool_.init(budget, c.num_hidden_layers, e->model_.kv_row(), kv_dtype));
  e->info_.kv_bytes_per_token = e->pool_.bytes_per_token();
  e->info_.kv_dtype = kv_dtype_name(kv_dtype);
  e->max_context_ = opts.max_context > 0 ? opts.max_context
                    : c.max_position_embeddings > 0 ? c.max_position_embeddings
                                                    : e->pool_.capacity_tokens();
  e->scheduler_.reset(new Scheduler(e.get(), opts.max_sequences, opts.prefill_chunk));
  e->scheduler_->set_threaded(true);
  *out = std::move(e);
  return Status::OK();
}

EngineImpl::~EngineImpl() {
  scheduler_.reset();
  // Best effort: a read-only model folder keeps no statistics (the next load spreads evenly).
  if (save_routing_stats_) (void)cuda_backend_save_routing_stats();
}

// Bytes one between-requests re-placement may copy to the GPU: ~10 K2 experts (24.8 MB each),
// about 10 ms of PCIe 4 — a pause a user starting the next request does not notice.
constexpr int64_t kReplaceUploadBytes = int64_t(256) << 20;

void EngineImpl::between_requests() {
  if (!on_cuda_) return;
  std::lock_guard<std::mutex> g(run_mu_);  // never during a forward
  if (cuda_backend_replace_experts(kReplaceUploadBytes).ok()) ++replacements_;
}

void EngineImpl::use_routing_stats_in(const std::string& dir) {
  char key[17];
  std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(fingerprint_));
  const std::string path = dir.empty() ? "" : dir + "/" + placement::RoutingStats::file_name_for(key);
  cuda_backend_begin_model(info_.n_layers - info_.n_dense_layers, path, key);
  save_routing_stats_ = !path.empty();
}

Status EngineImpl::new_sequence(SeqId* out) {
  std::lock_guard<std::mutex> g(pool_mu_);
  return pool_.alloc(out);
}

Status EngineImpl::fork_sequence(SeqId src, int n_prefix, SeqId* out) {
  std::lock_guard<std::mutex> g(pool_mu_);
  if (!pool_.valid(src)) return Status::Error("fork_sequence: no sequence " + std::to_string(src));
  return pool_.fork(src, n_prefix, out);
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

Status EngineImpl::check_request(const std::vector<int32_t>& prompt) const {
  if (prompt.empty()) return Status::Error("generate: empty prompt");
  if (int64_t(prompt.size()) > max_context_)
    return Status::Error("generate: the prompt has " + std::to_string(prompt.size()) +
                         " tokens, more than the context of " + std::to_string(max_context_));
  return check_ids(prompt.data(), int(prompt.size()));
}

Status EngineImpl::open_sequence(const std::vector<int32_t>& prompt, SeqId* seq, int64_t* cached) {
  std::lock_guard<std::mutex> g(pool_mu_);
  KK_RETURN_IF_ERROR(pool_.alloc(seq));
  *cached = pool_.attach_prefix(*seq, prompt.data(), int64_t(prompt.size()) - 1);
  hit_tokens_ += *cached;
  prompt_tokens_ += int64_t(prompt.size());
  return Status::OK();
}

void EngineImpl::close_sequence(SeqId seq, bool keep) {
  std::lock_guard<std::mutex> g(pool_mu_);
  if (keep) pool_.cache_sequence(seq);
  pool_.release(seq);
}

Status EngineImpl::run_step(const std::vector<StepItem>& items, std::vector<std::vector<float>>* logits,
                            int* failed, const ForwardOptions& fo, ForwardResult* full) {
  if (failed) *failed = -1;
  std::vector<int32_t> ids;
  Batch b;
  {
    std::lock_guard<std::mutex> g(pool_mu_);
    for (size_t i = 0; i < items.size(); ++i) {
      const StepItem& it = items[i];
      Status st = check_ids(it.ids, it.n);
      const int64_t len = pool_.valid(it.seq) ? pool_.length(it.seq) : -1;
      if (st.ok() && len < 0) st = Status::Error("forward: no sequence " + std::to_string(it.seq));
      if (st.ok() && len + it.n > max_context_)
        st = Status::Error("forward: " + std::to_string(len + it.n) + " tokens exceed the context of " +
                           std::to_string(max_context_));
      if (st.ok()) st = pool_.reserve(it.seq, len + it.n);
      if (!st.ok()) {
        if (failed) *failed = int(i);
        return st;
      }
      ids.insert(ids.end(), it.ids, it.ids + it.n);
      b.spans.push_back(Span{pool_.view(it.seq), len, it.n});
    }
  }
  b.ids = ids.data();
  ForwardResult r;
  {
    std::lock_guard<std::mutex> run(run_mu_);
    KK_RETURN_IF_ERROR(run_model(model_, ops_, b, fo, &r));  // a failed forward leaves the sequences as they were
  }
  std::lock_guard<std::mutex> g(pool_mu_);
  for (const StepItem& it : items) pool_.append(it.seq, it.ids, it.n);
  if (logits && !fo.all_logits) {
    const int64_t V = model_.config().vocab_size;
    logits->assign(items.size(), {});
    for (size_t i = 0; i < items.size(); ++i)
      (*logits)[i].assign(r.logits.begin() + i * V, r.logits.begin() + (i + 1) * V);
  }
  if (full) *full = std::move(r);
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
  *out = ForwardResult();
  for (int done = 0; done < n;) {
    const int m = std::min(kPrefillChunk, n - done);
    ForwardResult part;
    KK_RETURN_IF_ERROR(run_step({StepItem{seq, ids + done, m}}, nullptr, nullptr, fo, &part));
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
  std::unordered_set<SeqId> distinct;
  std::vector<StepItem> items;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (!distinct.insert(seqs[i]).second)
      return Status::Error("decode_batch: sequence " + std::to_string(seqs[i]) + " twice");
    items.push_back(StepItem{seqs[i], &ids[i], 1});
  }
  ForwardOptions fo;
  fo.profile = profile;
  return run_step(items, logits, nullptr, fo);
}

// Through the scheduler: submit, then wait for on_done.
Status EngineImpl::generate(const std::vector<int32_t>& prompt, const SamplingParams& sp,
                            const TokenFn& on_token, GenerateResult* out, const PrefillFn& on_prefill) {
  *out = GenerateResult();
  std::promise<Status> done;
  std::future<Status> finished = done.get_future();
  Callbacks cb;
  cb.on_token = on_token;
  cb.on_prefill = on_prefill;
  cb.on_done = [&](const Status& st, const GenerateResult& r) {
    *out = r;
    done.set_value(st);
  };
  Request req;
  req.prompt = prompt;
  req.sampling = sp;
  KK_RETURN_IF_ERROR(submit(std::move(req), std::move(cb), nullptr));
  return finished.get();
}

Status EngineImpl::submit(Request req, Callbacks cb, RequestId* id) {
  return scheduler_->submit(std::move(req), std::move(cb), id);
}

void EngineImpl::cancel(RequestId id) { scheduler_->cancel(id); }

Engine::CacheStats EngineImpl::cache_stats() const {
  CacheStats s;
  {
    std::lock_guard<std::mutex> g(pool_mu_);
    s.block_tokens = pool_.blocks().block_tokens();
    s.blocks_total = pool_.blocks().n_blocks();
    s.blocks_free = pool_.blocks().n_free();
    s.cached_tokens = pool_.cached_tokens();
    s.bytes_per_token = pool_.bytes_per_token();
  }
  s.running = scheduler_->running();
  s.waiting = scheduler_->waiting();
  s.hit_tokens = hit_tokens_.load();
  s.prompt_tokens = prompt_tokens_.load();
  return s;
}

void EngineImpl::clear_cache() {
  std::lock_guard<std::mutex> g(pool_mu_);
  pool_.clear_cache();
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

// bench.cpp — `karakoram bench`: prefill and decode speed, time per op, and how the INT4 expert
// GEMV compares with the machine's streaming-read bandwidth, as one JSON object.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <sys/resource.h>
#include <nlohmann/json.hpp>
#include "cpu/membw.h"
#include "engine/engine_impl.h"
#include "karakoram/tools.h"
#include "harness/bench_rates.h"
#include "harness/bench_sessions.h"
#include "harness/synthetic_weights.h"

namespace kk {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// Bytes a batch-1 decode step must read: every weight except the routed experts and the
// embedding (one row), plus top_k experts per MoE layer.
int64_t decode_bytes_per_token(const Model& m, const ModelInfo& info) {
  const ModelConfig& c = m.config();
  const ModelWeights& w = m.weights();
  int64_t bytes = info.bytes_weights - info.bytes_experts;
  if (w.embed_tokens.data != w.lm_head.data) bytes -= int64_t(w.embed_tokens.nbytes());
  for (const LayerWeights& l : w.layers) {
    if (!l.is_moe) continue;
    const int64_t per_expert = int64_t(l.moe.gate_exps.nbytes() + l.moe.up_exps.nbytes() + l.moe.down_exps.nbytes()) /
                               c.n_routed_experts;
    bytes += per_expert * c.num_experts_per_tok;
  }
  return bytes;
}

}  // namespace

// Rounds of (read bandwidth, exact GEMV, fast GEMV); ~3 s each on K2-sized experts.
constexpr int kMeasureRounds = 3;

Status run_bench(const BenchOptions& o, std::string* json_out) {
  if (o.prompt_len <= 0 || o.gen <= 0) return Status::Error("bench: --prompt-len and --gen must be positive");
  LoadOptions lo;
  lo.mode = o.mode;
  lo.kv_dtype = o.kv_dtype;
  if (o.q4_layout != "auto" && o.q4_layout != "rows")
    return Status::Error("bench: unknown --q4-layout '" + o.q4_layout + "' (auto | rows)");
  lo.repack_q4 = o.q4_layout == "auto";
  lo.layout_cache_dir = o.layout_cache_dir;
  lo.threads = o.threads;
  if (o.prefix_len < 0 || (o.prefix_len > 0 && o.follow_len <= 0))
    return Status::Error("bench: --prefix-len must not be negative and --follow-len must be positive");
  lo.max_sequences = 1;
  for (int n : o.concurrency) lo.max_sequences = std::max(lo.max_sequences, n);
  lo.max_context = std::max({o.prompt_len + o.gen, o.prefix_len + o.follow_len,
                             o.concurrency.empty() ? 0 : kConcurrencyContext + o.gen + 1}) + 1;
  std::unique_ptr<EngineImpl> e;
  std::string note;
  const auto t_load = std::chrono::steady_clock::now();
  if (!o.synthetic.empty()) {
    SyntheticSpec spec;
    KK_RETURN_IF_ERROR(parse_synthetic_spec(o.synthetic, &spec));
    ModelWeights w;
    {
      ThreadPool fill_pool(o.threads);
      KK_RETURN_IF_ERROR(build_synthetic_weights(spec, fill_pool, &w, &note));
    }
    KK_RETURN_IF_ERROR(EngineImpl::create(std::move(w), lo, &e));
  } else {
    std::unique_ptr<Engine> base;
    KK_RETURN_IF_ERROR(Engine::load(o.model_dir, lo, nullptr, &base));
    e.reset(static_cast<EngineImpl*>(base.release()));
  }
  const double load_s = seconds_since(t_load);
  // Peak resident set so far (the load's, before the bench's own buffers): mapped cache pages
  // count once touched, as private copies do.
  struct rusage ru;
  const double load_peak_rss_mb = getrusage(RUSAGE_SELF, &ru) == 0 ? double(ru.ru_maxrss) / 1024.0 : 0.0;
  const ModelInfo& info = e->info();
  const ModelConfig& c = e->model().config();

  // The machine's bound (measured in this run on the engine's own threads) and the INT4 expert GEMV in both activation modes (expert_gemv_gbps is
  // the run's own mode), measured in alternating rounds and each keeping its best, so that
  // neighbours on shared cores hit the bound and the kernels alike (as kk_kernel_bench does).
  const cpu::Kernels& kern = *e->ops().context().kernels;
  const bool x16 = info.q4_layout == "x16";
  cpu::MembwDetail mem_detail;
  double mem_gbps = 0, gemv_exact = 0, gemv_fast = 0;
  for (int round = 0; round < kMeasureRounds; ++round) {
    cpu::MembwDetail d;
    const double m = cpu::measure_read_bandwidth_gbps(e->thread_pool(), &d);
    if (m > mem_gbps) { mem_gbps = m; mem_detail = d; }
    gemv_exact = std::max(gemv_exact, cpu::measure_q4_gemv_gbps(e->thread_pool(), kern, false, x16));
    gemv_fast = std::max(gemv_fast, cpu::measure_q4_gemv_gbps(e->thread_pool(), kern, true, x16));
  }
  const double gemv_gbps = lo.mode == "fast" ? gemv_fast : gemv_exact;
  const cpu::ComputePeak peak = cpu::measure_compute_peak(e->thread_pool());

  uint64_t s = 12345;
  std::vector<int32_t> prompt(o.prompt_len);
  for (auto& id : prompt) { s = s * 6364136223846793005ull + 1442695040888963407ull; id = int32_t((s >> 33) % uint64_t(c.vocab_size)); }
  SeqId seq;
  KK_RETURN_IF_ERROR(e->new_sequence(&seq));
  Profile prefill_prof, decode_prof;
  ForwardOptions fo;
  fo.profile = &prefill_prof;
  ForwardResult r;
  auto t0 = std::chrono::steady_clock::now();
  KK_RETURN_IF_ERROR(e->forward_ex(seq, prompt.data(), o.prompt_len, fo, &r));
  const double prefill_s = seconds_since(t0);
  fo.profile = &decode_prof;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < o.gen; ++i) {
    int32_t next = 0;
    for (int j = 1; j < c.vocab_size; ++j) if (r.logits[j] > r.logits[next]) next = j;
    KK_RETURN_IF_ERROR(e->forward_ex(seq, &next, 1, fo, &r));
  }
  const double decode_s = seconds_since(t0);
  e->free_sequence(seq);

  const int64_t bytes_tok = decode_bytes_per_token(e->model(), info);
  const double decode_tok_s = o.gen / decode_s;
  nlohmann::ordered_json j;
  j["model"] = o.synthetic.empty() ? o.model_dir : "synthetic:" + o.synthetic;
  j["layers"] = c.num_hidden_layers;
  j["routed_experts"] = c.n_routed_experts;
  j["vocab"] = c.vocab_size;
  if (!note.empty()) j["synthetic_note"] = note;
  j["threads"] = e->thread_pool().size();
  j["mode"] = lo.mode;
  j["kernels"] = info.kernels;
  j["q4_layout"] = info.q4_layout;
  j["prompt_len"] = o.prompt_len;
  j["gen"] = o.gen;
  j["load_s"] = round3(load_s);
  j["load_peak_rss_mb"] = round3(load_peak_rss_mb);
  if (!o.layout_cache_dir.empty()) j["layout_cache_dir"] = o.layout_cache_dir;
  j["weights_gb"] = round3(info.bytes_weights / 1e9);
  j["prefill_tok_s"] = round3(o.prompt_len / prefill_s);
  j["decode_tok_s"] = round3(decode_tok_s);
  nlohmann::ordered_json ops, pops;
  for (const auto& [k, v] : decode_prof.ms) ops[k] = round3(v / o.gen);
  for (const auto& [k, v] : prefill_prof.ms) pops[k] = round3(v / o.prompt_len);
  j["ops"] = ops;                 // decode: ms per op per generated token
  j["prefill_ops"] = pops;        // prefill: ms per op per prompt token
  std::map<std::string, double> prefill_ms;
  for (const auto& [k, v] : prefill_prof.ms) prefill_ms[k] = v / o.prompt_len;
  j["compute_peak_gflops"] = compute_peak_json(peak);
  j["prefill_op_rates"] = prefill_op_rates(c, prefill_ms, o.prompt_len, lo.mode == "fast", peak);
  j["mem_read_gbps"] = round3(mem_gbps);
  j["mem_read_best_reader"] = mem_detail.best_reader;
  j["expert_gemv_gbps"] = round3(gemv_gbps);
  j["expert_gemv_efficiency"] = round3(gemv_gbps / mem_gbps);
  nlohmann::ordered_json by_mode;
  by_mode["exact"] = {{"gbps", round3(gemv_exact)}, {"efficiency", round3(gemv_exact / mem_gbps)}};
  by_mode["fast"] = {{"gbps", round3(gemv_fast)}, {"efficiency", round3(gemv_fast / mem_gbps)}};
  j["expert_gemv_by_mode"] = by_mode;
  j["decode_bytes_per_token_gb"] = round3(bytes_tok / 1e9);
  j["decode_effective_gbps"] = round3(bytes_tok * decode_tok_s / 1e9);
  j["decode_bound_tok_s"] = round3(mem_gbps * 1e9 / bytes_tok);  // if every byte streamed at mem_read_gbps
  j["kv_dtype"] = info.kv_dtype;
  j["kv_bytes_per_token"] = info.kv_bytes_per_token;  // latent cache, all layers, as this run stores it
  // What a cached token costs in each precision (this model's layers; kernels/common/kk_kv.h).
  nlohmann::ordered_json kv_by;
  for (int dt : {KK_KV_F32, KK_KV_BF16, KK_KV_FP8})
    kv_by[kv_dtype_name(dt)] = kv_bytes_per_token(c.num_hidden_layers, e->model().kv_row(), dt);
  j["kv_bytes_per_token_by_dtype"] = kv_by;
  if (o.prefix_len > 0) KK_RETURN_IF_ERROR(bench_prefix(*e, o.prefix_len, o.follow_len, &j));
  if (!o.concurrency.empty()) KK_RETURN_IF_ERROR(bench_concurrency(*e, o.concurrency, o.gen, mem_gbps, &j));
  *json_out = j.dump();
  return Status::OK();
}

}  // namespace kk

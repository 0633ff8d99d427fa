// bench_sessions.cpp — prefix-cache / snapshot time to first token and batched decode rates.
#include "harness/bench_sessions.h"
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>

namespace kk {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

std::vector<int32_t> lcg_ids(uint64_t seed, int n, int vocab) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (auto& id : v) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    id = int32_t((seed >> 33) % uint64_t(vocab));
  }
  return v;
}

// Time to first token of `prompt` through the scheduler (generate with one output token).
Status ttft(EngineImpl& e, const std::vector<int32_t>& prompt, GenerateResult* r) {
  SamplingParams sp;
  sp.max_tokens = 1;
  return e.generate(prompt, sp, nullptr, r);
}

// Bytes of weights every decode step reads whatever the batch: all but the routed experts and
// the embedding table (one row per token) — attention, dense and shared MLPs, norms, router, lm_head.
int64_t fixed_step_bytes(const EngineImpl& e) {
  const ModelWeights& w = e.model().weights();
  int64_t bytes = e.info().bytes_weights - e.info().bytes_experts;
  if (w.embed_tokens.data != w.lm_head.data) bytes -= int64_t(w.embed_tokens.nbytes());
  return bytes;
}

}  // namespace

Status bench_prefix(EngineImpl& e, int prefix_len, int follow_len, nlohmann::ordered_json* j) {
  const int V = e.info().vocab;
  const auto prefix = lcg_ids(777, prefix_len, V);
  auto prompt = [&](uint64_t seed) {
    auto p = prefix;
    auto f = lcg_ids(seed, follow_len, V);
    f[0] = int32_t((prefix.back() + int32_t(seed)) % V);  // the follow-ups differ from their first token
    p.insert(p.end(), f.begin(), f.end());
    return p;
  };
  const auto pa = prompt(1), pb = prompt(2), pc = prompt(3);
  e.clear_cache();
  GenerateResult fresh, hit, restored;
  KK_RETURN_IF_ERROR(ttft(e, pa, &fresh));
  KK_RETURN_IF_ERROR(ttft(e, pb, &hit));

  char tmpl[] = "/tmp/kk_bench_snap_XXXXXX";
  if (!mkdtemp(tmpl)) return Status::Error("bench: cannot create a temporary folder for the snapshot");
  const std::string dir = tmpl, path = dir + "/prefix.kvsnap";
  int64_t saved = 0, back = 0;
  auto t0 = std::chrono::steady_clock::now();
  Status st = e.save_snapshot(prefix, path, &saved);
  const double save_ms = ms_since(t0);
  struct stat sb {};
  const int64_t file_bytes = st.ok() && stat(path.c_str(), &sb) == 0 ? int64_t(sb.st_size) : 0;
  double restore_ms = 0;
  if (st.ok()) {
    e.clear_cache();  // as after a restart: nothing cached
    t0 = std::chrono::steady_clock::now();
    st = e.restore_snapshot(path, pc, &back);
    restore_ms = ms_since(t0);
  }
  if (st.ok()) st = ttft(e, pc, &restored);
  std::remove(path.c_str());
  rmdir(dir.c_str());
  KK_RETURN_IF_ERROR(st);

  (*j)["prefix_len"] = prefix_len;
  (*j)["follow_len"] = follow_len;
  (*j)["ttft_fresh_ms"] = round3(fresh.prefill_ms);
  (*j)["ttft_prefix_hit_ms"] = round3(hit.prefill_ms);
  (*j)["ttft_snapshot_ms"] = round3(restore_ms + restored.prefill_ms);  // read the file, then the follow-up
  (*j)["prefix_hit_speedup"] = round3(fresh.prefill_ms / std::max(hit.prefill_ms, 1e-9));
  (*j)["snapshot_speedup"] = round3(fresh.prefill_ms / std::max(restore_ms + restored.prefill_ms, 1e-9));
  (*j)["prefix_hit_cached_tokens"] = hit.cached_tokens;
  (*j)["snapshot_cached_tokens"] = restored.cached_tokens;
  (*j)["snapshot_save_ms"] = round3(save_ms);
  (*j)["snapshot_restore_ms"] = round3(restore_ms);
  (*j)["snapshot_bytes"] = file_bytes;
  // The file over the prefix it holds: header, ids and checksum included, so it is a little above
  // kv_bytes_per_token (the blocks are whole: a partial last block is stored in full).
  (*j)["snapshot_bytes_per_token"] = round3(double(file_bytes) / std::max(prefix_len, 1));
  e.clear_cache();
  return Status::OK();
}

Status bench_concurrency(EngineImpl& e, const std::vector<int>& sequences, int steps, double mem_gbps,
                         nlohmann::ordered_json* j) {
  const ModelConfig& c = e.model().config();
  const int V = c.vocab_size;
  const int64_t fixed = fixed_step_bytes(e), kv_row_bytes = e.info().kv_bytes_per_token;
  std::vector<int64_t> expert_bytes(size_t(c.num_hidden_layers), 0);  // one routed expert, per MoE layer
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const LayerWeights& w = e.model().weights().layers[size_t(l)];
    if (w.is_moe)
      expert_bytes[size_t(l)] =
          int64_t(w.moe.gate_exps.nbytes() + w.moe.up_exps.nbytes() + w.moe.down_exps.nbytes()) / c.n_routed_experts;
  }
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (int n : sequences) {
    if (n <= 0) return Status::Error("bench: --concurrency takes positive sequence counts");
    e.clear_cache();
    std::vector<SeqId> seqs(static_cast<size_t>(n));
    std::vector<std::vector<int32_t>> prompts;
    std::vector<EngineImpl::StepItem> items;
    for (int i = 0; i < n; ++i) {
      KK_RETURN_IF_ERROR(e.new_sequence(&seqs[size_t(i)]));
      prompts.push_back(lcg_ids(1000 + uint64_t(i), kConcurrencyContext, V));
    }
    for (int i = 0; i < n; ++i) items.push_back({seqs[size_t(i)], prompts[size_t(i)].data(), kConcurrencyContext});
    std::vector<std::vector<float>> logits;
    int failed = -1;
    Status st = e.run_step(items, &logits, &failed);  // every sequence's context, in one forward
    std::vector<int32_t> next(static_cast<size_t>(n));
    double total_ms = 0, bytes = 0;
    ForwardOptions fo;
    fo.router_topk = true;
    Profile prof;  // ms per op over the timed steps (where a batch's time goes)
    for (int s = 0; st.ok() && s <= steps; ++s) {
      fo.profile = s == 0 ? nullptr : &prof;  // step 0 warms up and is not timed
      for (int i = 0; i < n; ++i) {
        const auto& lg = logits[size_t(i)];
        next[size_t(i)] = int32_t(std::max_element(lg.begin(), lg.end()) - lg.begin());
        items[size_t(i)] = {seqs[size_t(i)], &next[size_t(i)], 1};
      }
      int64_t kv_bytes = 0;
      for (SeqId q : seqs) kv_bytes += int64_t(e.sequence_length(q) + 1) * kv_row_bytes;
      ForwardResult full;
      const auto t0 = std::chrono::steady_clock::now();
      st = e.run_step(items, &logits, &failed, fo, &full);
      const double ms = ms_since(t0);
      if (!st.ok() || s == 0) continue;
      total_ms += ms;
      int64_t experts = 0;
      for (size_t l = 0; l < full.router_topk.size() && l < expert_bytes.size(); ++l) {
        const std::set<int32_t> distinct(full.router_topk[l].begin(), full.router_topk[l].end());
        experts += int64_t(distinct.size()) * expert_bytes[l];
      }
      bytes += double(fixed + experts + kv_bytes);
    }
    for (SeqId q : seqs) e.free_sequence(q);
    KK_RETURN_IF_ERROR(st);
    const double step_bytes = bytes / steps, step_s = total_ms / steps / 1e3;
    nlohmann::ordered_json row;
    row["sequences"] = n;
    row["aggregate_decode_tok_s"] = round3(n / step_s);
    row["step_ms"] = round3(step_s * 1e3);
    row["bytes_per_step"] = int64_t(step_bytes);
    row["read_gbps"] = round3(step_bytes / step_s / 1e9);
    row["read_fraction"] = round3(step_bytes / step_s / (mem_gbps * 1e9));
    nlohmann::ordered_json ops;
    for (const auto& [k, v] : prof.ms) ops[k] = round3(v / steps);
    row["ops_ms_per_step"] = ops;
    list.push_back(row);
  }
  (*j)["concurrency_context_tokens"] = kConcurrencyContext;
  (*j)["concurrency"] = list;
  return Status::OK();
}

}  // namespace kk

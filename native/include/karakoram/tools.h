// karakoram/tools.h — eval, bench and the synthetic-checkpoint writer (shared by the CLI through
// the binding and by the native/tools binaries).
#pragma once
#include <functional>
#include <string>
#include <vector>
#include "core/status.h"
#include "karakoram/types.h"

namespace kk {

struct EvalOptions { LoadOptions load; };
struct EvalPromptResult {
  int prompt = 0, tokens = 0;
  double max_abs_logit_err = 0, max_rel_hidden_err = 0, topk_agree = 0, decode_max_abs_logit_err = 0;
};
struct EvalReport {
  std::vector<EvalPromptResult> prompts;
  double max_abs_logit_err = 0, max_rel_hidden_err = 0, topk_agree = 0, decode_max_abs_logit_err = 0;
  bool pass = false;
  std::string summary_line;  // "eval: prompts=N max_abs_logit_err=X ... verdict=PASS|FAIL"
};
Status run_eval(const std::string& model_dir, const std::string& reference, const EvalOptions& opts,
                const std::function<void(const std::string& line)>& on_line, EvalReport* out);

struct SynthOptions {
  std::string preset = "tiny";  // "k2" | "tiny"
  int layers = -1, experts = -1;   // -1: preset default
  uint64_t seed = 1;
  double routing_skew = 0;      // Zipf exponent for router correction bias; 0 = flat
  std::string out_dir;
  // Storage formats (K2-Thinking's by default; the others exercise the loader's conversions):
  std::string expert_format = "int4";  // "int4" (compressed-tensors) | "bf16" | "fp8" (block e4m3)
  std::string dense_format = "bf16";   // non-expert Linear weights: "bf16" | "fp8"
};
Status write_synthetic(const SynthOptions& opts, const ProgressFn& progress);

struct BenchOptions {
  std::string model_dir;        // or synthetic:
  std::string synthetic;        // "k2:layers=2" | "tiny"
  int prompt_len = 64, gen = 16, threads = 0;
  std::string mode = "exact";
  std::string q4_layout = "auto";  // "auto": repacked to x16 where the CPU kernels prefer it | "rows"
  std::string kv_dtype;         // latent cache precision (LoadOptions::kv_dtype; "": the mode's default)
  std::string layout_cache_dir;    // --model only: LoadOptions::layout_cache_dir
  // Engine sessions (0 / empty: not measured): time to first token of a follow_len-token
  // follow-up after a prefix_len-token prefix (fresh, prefix hit, snapshot restore), and the
  // aggregate decode rate of each number of concurrent sequences.
  int prefix_len = 0, follow_len = 32;
  std::vector<int> concurrency;
};
// Returns one JSON object (see issue: prefill_tok_s, decode_tok_s, ops, mem_read_gbps, ...).
Status run_bench(const BenchOptions& opts, std::string* json_out);

}  // namespace kk

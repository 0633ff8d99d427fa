// karakoram/engine.h — the engine's public C++ API. The N-API binding (native/binding/) and the
// stand-alone tools (native/tools/) use only this header. Nothing here aborts: calls return Status.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "core/status.h"

namespace kk {

struct LoadOptions {
  std::string backend = "cpu";   // "cpu" | "cuda" (when built) — per-op fallback to cpu
  std::string mode = "exact";    // "exact": fp32 activations; "fast": int8 activations for INT4
  bool requantize = true;        // convert bf16/FP8 routed experts to INT4 (group 32, symmetric)
  int threads = 0;               // 0: all hardware threads
  int max_sequences = 8;         // KV pool: concurrent sequences
  int max_context = 8192;        // KV pool: tokens per sequence
  // CPU backend: repack Q4 matrices into 16-row interleaved blocks (block_q4x16) at load when
  // the CPU kernels run faster on them; false keeps block_q4 rows (for A/B measurements).
  bool repack_q4 = true;
};

// stage: "validate" | "weights" | "repack"; fraction in [0, 1]
using ProgressFn = std::function<void(const std::string& stage, double fraction)>;

struct ModelInfo {
  std::string model_type, architecture, quantization;  // quantization: "int4-compressed-tensors" | "fp8-block" | "bf16" | ...
  int n_layers = 0, n_dense_layers = 0, hidden = 0, n_heads = 0, vocab = 0;
  int n_experts = 0, top_k = 0, n_shared_experts = 0, moe_intermediate = 0;
  int q_lora_rank = 0, kv_lora_rank = 0, max_position = 0;
  int64_t n_params = 0;            // parameters, counted as stored
  int64_t bytes_weights = 0;       // resident weight bytes after load
  int64_t bytes_experts = 0;       // of which routed experts
  int64_t kv_bytes_per_token = 0;  // latent cache, all layers
  int bos_id = -1, eos_id = -1;
  std::string backend, kernels;    // e.g. "cpu", "avx512_vnni"
  std::string q4_layout = "rows";  // "rows" (block_q4) | "x16" (block_q4x16, repacked at load)
};

struct SamplingParams {
  float temperature = 0.f;        // 0 = greedy
  int top_k = 0;                  // 0 = off
  float top_p = 1.f;
  float min_p = 0.f;
  float repetition_penalty = 1.f; // HF semantics (divide positive logits, multiply negative)
  float presence_penalty = 0.f;   // OpenAI semantics (subtract once per seen token)
  float frequency_penalty = 0.f;
  uint64_t seed = 0;
  std::vector<int32_t> stop_ids;
  int max_tokens = 256;
};

struct GenerateResult {
  std::vector<int32_t> output_ids;
  std::string finish_reason;      // "stop" | "length" | "cancelled"
  int prompt_tokens = 0, completion_tokens = 0;
  double prefill_ms = 0, decode_ms = 0;  // time to first token ≈ prefill_ms
};

// What a forward can hand back besides the last-token logits (for eval and tests).
struct ForwardRequest {
  bool all_logits = false;   // logits for every token, not just the last
  bool hidden = false;       // hidden[0..n_layers+1]: embedding, after each layer, final norm
  bool router_topk = false;  // per MoE layer, the chosen experts per token (sorted)
};
struct ForwardResult {
  std::vector<float> logits;                     // [n or 1][vocab]
  std::vector<std::vector<float>> hidden;        // [n_layers + 2][n][hidden]
  std::vector<std::vector<int32_t>> router_topk; // [n_layers][n][top_k] (empty for dense layers)
};

using SeqId = int32_t;
using TokenFn = std::function<bool(int32_t token)>;  // return false to cancel
// Prompt processing: called after each prefill chunk with the prompt tokens done so far (the last
// call has done == total), so a UI can show progress on long prompts.
using PrefillFn = std::function<void(int done, int total)>;

class Engine {
 public:
  static Status load(const std::string& dir, const LoadOptions& opts, const ProgressFn& progress,
                     std::unique_ptr<Engine>* out);
  virtual ~Engine() = default;
  virtual const ModelInfo& info() const = 0;

  // Sequences own a KV cache drawn from the pool.
  virtual Status new_sequence(SeqId* out) = 0;
  // A new sequence sharing the first n_prefix cached tokens of src (copy-on-fork).
  virtual Status fork_sequence(SeqId src, int n_prefix, SeqId* out) = 0;
  virtual void free_sequence(SeqId seq) = 0;
  virtual int sequence_length(SeqId seq) const = 0;

  // Appends tokens to a sequence (prefill when n > 1, decode when n == 1) and returns outputs.
  virtual Status forward(SeqId seq, const int32_t* ids, int n, const ForwardRequest& req,
                         ForwardResult* out) = 0;
  // One decode step for several sequences at once (each appends one token); logits[i] per seq.
  virtual Status decode_batch(const std::vector<SeqId>& seqs, const std::vector<int32_t>& ids,
                              std::vector<std::vector<float>>* logits) = 0;

  // Prefill + sample + decode loop on a fresh sequence; on_token sees each new id, on_prefill
  // (optional) the prompt-processing progress.
  virtual Status generate(const std::vector<int32_t>& prompt, const SamplingParams& sp,
                          const TokenFn& on_token, GenerateResult* out,
                          const PrefillFn& on_prefill = nullptr) = 0;

  struct MemoryStats { int64_t weights_bytes, kv_bytes_used, kv_bytes_capacity, rss_bytes; };
  virtual MemoryStats memory_stats() const = 0;
};

// ---- tools (shared by the CLI through the binding and by native/tools binaries) ----

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
};
// Returns one JSON object (see issue: prefill_tok_s, decode_tok_s, ops, mem_read_gbps, ...).
Status run_bench(const BenchOptions& opts, std::string* json_out);

}  // namespace kk

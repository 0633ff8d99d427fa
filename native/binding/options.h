// options.h — JS option objects -> engine structs (one place, shared by every binding entry).
#pragma once
#include <napi.h>
#include "karakoram/engine.h"
#include "async.h"

namespace kkjs {

inline kk::LoadOptions load_options(const Napi::Value& v) {
  kk::LoadOptions o;
  if (v.IsUndefined() || v.IsNull()) return o;
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "load options must be an object");
  Napi::Object js = v.As<Napi::Object>();
  o.backend = str_opt(js, "backend", o.backend);
  o.mode = str_opt(js, "mode", o.mode);
  if (o.mode != "exact" && o.mode != "fast") throw Napi::TypeError::New(v.Env(), "option 'mode' must be 'exact' or 'fast'");
  o.requantize = bool_opt(js, "requantize", o.requantize);
  o.threads = static_cast<int>(num_opt(js, "threads", o.threads));
  o.max_sequences = static_cast<int>(num_opt(js, "maxSequences", o.max_sequences));
  o.max_context = static_cast<int>(num_opt(js, "maxContext", o.max_context));
  o.kv_budget_bytes = static_cast<int64_t>(num_opt(js, "kvBudgetBytes", static_cast<double>(o.kv_budget_bytes)));
  o.prefill_chunk = static_cast<int>(num_opt(js, "prefillChunk", o.prefill_chunk));
  o.gpu_expert_budget_bytes = static_cast<int64_t>(num_opt(js, "gpuExpertBudgetBytes", 0));
  if (o.gpu_expert_budget_bytes < 0) throw Napi::RangeError::New(v.Env(), "option 'gpuExpertBudgetBytes' must not be negative");
  o.routing_stats_dir = str_opt(js, "routingStatsDir", o.routing_stats_dir);
  o.kv_dtype = str_opt(js, "kvDtype", o.kv_dtype);
  if (!o.kv_dtype.empty() && o.kv_dtype != "fp32" && o.kv_dtype != "bf16" && o.kv_dtype != "fp8")
    throw Napi::TypeError::New(v.Env(), "option 'kvDtype' must be 'fp32', 'bf16' or 'fp8'");
  return o;
}

inline kk::SamplingParams sampling_params(const Napi::Value& v) {
  kk::SamplingParams p;
  if (v.IsUndefined() || v.IsNull()) return p;
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), "generate options must be an object");
  Napi::Object js = v.As<Napi::Object>();
  p.temperature = static_cast<float>(num_opt(js, "temperature", p.temperature));
  p.top_k = static_cast<int>(num_opt(js, "topK", p.top_k));
  p.top_p = static_cast<float>(num_opt(js, "topP", p.top_p));
  p.min_p = static_cast<float>(num_opt(js, "minP", p.min_p));
  p.repetition_penalty = static_cast<float>(num_opt(js, "repetitionPenalty", p.repetition_penalty));
  p.presence_penalty = static_cast<float>(num_opt(js, "presencePenalty", p.presence_penalty));
  p.frequency_penalty = static_cast<float>(num_opt(js, "frequencyPenalty", p.frequency_penalty));
  p.seed = static_cast<uint64_t>(num_opt(js, "seed", static_cast<double>(p.seed)));
  p.max_tokens = static_cast<int>(num_opt(js, "maxTokens", p.max_tokens));
  if (js.Has("stopIds") && !js.Get("stopIds").IsUndefined()) p.stop_ids = ids_arg(js.Get("stopIds"), "stopIds");
  if (p.temperature < 0 || p.top_p <= 0 || p.top_p > 1 || p.min_p < 0 || p.min_p > 1 || p.max_tokens < 0 || p.top_k < 0)
    throw Napi::RangeError::New(v.Env(), "sampling options out of range (temperature >= 0, 0 < topP <= 1, 0 <= minP <= 1, topK >= 0, maxTokens >= 0)");
  return p;
}

inline Napi::Object model_info(Napi::Env env, const kk::ModelInfo& i) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("modelType", i.model_type); o.Set("architecture", i.architecture); o.Set("quantization", i.quantization);
  o.Set("nLayers", i.n_layers); o.Set("nDenseLayers", i.n_dense_layers); o.Set("hidden", i.hidden);
  o.Set("nHeads", i.n_heads); o.Set("vocab", i.vocab); o.Set("nExperts", i.n_experts); o.Set("topK", i.top_k);
  o.Set("nSharedExperts", i.n_shared_experts); o.Set("moeIntermediate", i.moe_intermediate);
  o.Set("qLoraRank", i.q_lora_rank); o.Set("kvLoraRank", i.kv_lora_rank); o.Set("maxPosition", i.max_position);
  o.Set("nParams", static_cast<double>(i.n_params)); o.Set("bytesWeights", static_cast<double>(i.bytes_weights));
  o.Set("bytesExperts", static_cast<double>(i.bytes_experts)); o.Set("kvBytesPerToken", static_cast<double>(i.kv_bytes_per_token));
  o.Set("kvDtype", i.kv_dtype);
  o.Set("bosId", i.bos_id); o.Set("eosId", i.eos_id); o.Set("backend", i.backend); o.Set("kernels", i.kernels);
  o.Set("q4Layout", i.q4_layout);
  return o;
}

}  // namespace kkjs

// config.cpp — config.json -> ModelConfig for model_type kimi_k2 and deepseek_v3.
// Dimensions the forward cannot guess are required; knobs with a documented HF default
// (DeepseekV3Config) take that default when absent. Errors name the file and the field.
#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include <nlohmann/json.hpp>

namespace kk {
namespace {

using json = nlohmann::json;

// HF DeepseekV3Config defaults for knobs a config may leave out.
constexpr int kDefaultNGroup = 8, kDefaultTopkGroup = 4, kDefaultFirstKDense = 3, kDefaultNShared = 1;
constexpr double kDefaultRoutedScaling = 2.5, kDefaultRopeTheta = 10000.0, kDefaultRmsEps = 1e-6;
constexpr int kDefaultMaxPos = 4096;
// Kimi K2.5 / K2.6 (the same wrapper): what names it at the top level, and where its text
// backbone's tensors live (vLLM's and SGLang's KimiK25ForConditionalGeneration strip this prefix).
constexpr const char* kK25ModelType = "kimi_k25";
constexpr const char* kK25Architecture = "KimiK25ForConditionalGeneration";
constexpr const char* kK25TensorPrefix = "language_model.";
// quantization_config.ignore "re:" patterns: std::regex compiles them by recursion (per nesting
// level and per term), so a long or deeply nested one overflows the stack (a crash the parser
// fuzzer found: 10,000 nested groups). Real ones are a few dozen characters (".*self_attn.*").
constexpr size_t kMaxIgnoreRegexChars = 1024;
constexpr int kMaxIgnoreRegexDepth = 32;
// YaRN defaults (HF _compute_yarn_parameters).
constexpr double kDefaultBetaFast = 32.0, kDefaultBetaSlow = 1.0;

class Reader {
 public:
  Reader(const json& j, const std::string& path) : j_(j), path_(path) {}
  Status error(const std::string& field, const std::string& what) const {
    return Status::Error(path_ + ": field '" + field + "' " + what);
  }
  // Required positive (or >= min_value) integer.
  Status req_int(const char* f, int* out, int min_value = 1) const {
    auto it = j_.find(f);
    if (it == j_.end() || it->is_null()) return error(f, "is missing");
    return to_int(f, *it, out, min_value);
  }
  Status opt_int(const char* f, int* out, int def, int min_value = 0) const {
    auto it = j_.find(f);
    if (it == j_.end() || it->is_null()) { *out = def; return Status::OK(); }
    return to_int(f, *it, out, min_value);
  }
  Status opt_double(const char* f, double* out, double def) const {
    auto it = j_.find(f);
    if (it == j_.end() || it->is_null()) { *out = def; return Status::OK(); }
    if (!it->is_number()) return error(f, "must be a number");
    *out = it->get<double>();
    if (!std::isfinite(*out)) return error(f, "must be finite");
    return Status::OK();
  }
  Status opt_bool(const char* f, bool* out, bool def) const {
    auto it = j_.find(f);
    if (it == j_.end() || it->is_null()) { *out = def; return Status::OK(); }
    if (!it->is_boolean()) return error(f, "must be true or false");
    *out = it->get<bool>();
    return Status::OK();
  }
  Status opt_string(const char* f, std::string* out, const std::string& def) const {
    auto it = j_.find(f);
    if (it == j_.end() || it->is_null()) { *out = def; return Status::OK(); }
    if (!it->is_string()) return error(f, "must be a string");
    *out = it->get<std::string>();
    return Status::OK();
  }
  // bos/eos: an id, a list of ids (the first is used), or null.
  Status token_id(const char* f, int* out) const {
    auto it = j_.find(f);
    *out = -1;
    if (it == j_.end() || it->is_null()) return Status::OK();
    const json& v = it->is_array() ? (it->empty() ? json() : (*it)[0]) : *it;
    if (v.is_null()) return Status::OK();
    return to_int(f, v, out, 0);
  }

 private:
  Status to_int(const char* f, const json& v, int* out, int min_value) const {
    if (!v.is_number_integer() && !(v.is_number_float() && v.get<double>() == std::floor(v.get<double>())))
      return error(f, "must be an integer");
    double d = v.get<double>();
    if (d < min_value || d > 2147483647.0)
      return error(f, "is " + v.dump() + ", must be >= " + std::to_string(min_value));
    *out = int(d);
    return Status::OK();
  }
  const json& j_;
  std::string path_;
};

// The rope settings live under `rope_scaling` (the checkpoints as shipped) or `rope_parameters`
// (what transformers >= 5 writes when it saves a config); K2.5 copies exist with either.
const char* rope_key(const json& j) {
  auto it = j.find("rope_scaling");
  if (it != j.end() && !it->is_null()) return "rope_scaling";
  return j.contains("rope_parameters") ? "rope_parameters" : "rope_scaling";
}

Status parse_rope_scaling(const json& j, const std::string& path, RopeScaling* rs) {
  const std::string key = rope_key(j);
  auto it = j.find(key);
  *rs = RopeScaling();
  if (it == j.end() || it->is_null()) return Status::OK();
  if (!it->is_object()) return Status::Error(path + ": field '" + key + "' must be an object or null");
  Reader r(*it, path + " (" + key + ")");
  std::string type, rope_type;
  KK_RETURN_IF_ERROR(r.opt_string("type", &type, ""));
  KK_RETURN_IF_ERROR(r.opt_string("rope_type", &rope_type, type));
  if (type.empty()) type = rope_type;
  if (type == "default" || type.empty()) return Status::OK();
  if (type != "yarn")
    return Status::Error(path + ": field '" + key + ".type' is '" + type + "', only yarn (or none) is supported");
  rs->type = "yarn";
  auto f = it->find("factor");
  if (f == it->end() || !f->is_number() || f->get<double>() < 1.0)
    return Status::Error(path + ": field '" + key + ".factor' is missing or < 1");
  rs->factor = f->get<double>();
  KK_RETURN_IF_ERROR(r.req_int("original_max_position_embeddings", &rs->original_max_position_embeddings));
  KK_RETURN_IF_ERROR(r.opt_double("beta_fast", &rs->beta_fast, kDefaultBetaFast));
  KK_RETURN_IF_ERROR(r.opt_double("beta_slow", &rs->beta_slow, kDefaultBetaSlow));
  KK_RETURN_IF_ERROR(r.opt_double("mscale", &rs->mscale, 1.0));
  KK_RETURN_IF_ERROR(r.opt_double("mscale_all_dim", &rs->mscale_all_dim, 0.0));
  return Status::OK();
}

// Deepest group nesting of a regex; counts every unescaped '(' (also inside [...], which only
// over-counts).
int regex_group_depth(const std::string& re) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < re.size(); ++i) {
    if (re[i] == '\\') ++i;
    else if (re[i] == '(') deepest = std::max(deepest, ++depth);
    else if (re[i] == ')' && depth > 0) --depth;
  }
  return deepest;
}

Status parse_quant(const json& j, const std::string& path, QuantConfig* q) {
  *q = QuantConfig();
  auto it = j.find("quantization_config");
  if (it == j.end() || it->is_null()) return Status::OK();
  const std::string where = path + ": field 'quantization_config";
  if (!it->is_object()) return Status::Error(where + "' must be an object");
  auto m = it->find("quant_method");
  if (m == it->end() || !m->is_string()) return Status::Error(where + ".quant_method' is missing");
  q->method = m->get<std::string>();
  if (q->method == "compressed-tensors") {
    auto fmt = it->find("format");
    q->format = (fmt != it->end() && fmt->is_string()) ? fmt->get<std::string>() : "";
    if (q->format != "pack-quantized")
      return Status::Error(where + ".format' is '" + q->format + "': unknown quantization format (only pack-quantized INT4 is supported)");
    auto groups = it->find("config_groups");
    if (groups == it->end() || !groups->is_object() || groups->empty())
      return Status::Error(where + ".config_groups' is missing");
    if (groups->size() != 1)
      return Status::Error(where + ".config_groups' has " + std::to_string(groups->size()) + " groups, only one is supported");
    const json& g = groups->begin().value();
    auto w = g.find("weights");
    if (w == g.end() || !w->is_object()) return Status::Error(where + ".config_groups.*.weights' is missing");
    Reader r(*w, path + " (quantization_config weights)");
    std::string type, strategy;
    KK_RETURN_IF_ERROR(r.req_int("num_bits", &q->num_bits));
    KK_RETURN_IF_ERROR(r.opt_int("group_size", &q->group_size, 0));
    KK_RETURN_IF_ERROR(r.opt_bool("symmetric", &q->symmetric, true));
    KK_RETURN_IF_ERROR(r.opt_string("type", &type, "int"));
    KK_RETURN_IF_ERROR(r.opt_string("strategy", &strategy, "group"));
    if (q->num_bits != 4 || type != "int" || !q->symmetric || strategy != "group" || q->group_size != 32)
      return Status::Error(where + ".config_groups.*.weights': unsupported scheme (num_bits " + std::to_string(q->num_bits) +
                           ", type " + type + ", strategy " + strategy + ", group_size " + std::to_string(q->group_size) +
                           (q->symmetric ? ", symmetric" : ", asymmetric") + "); only symmetric int4 groups of 32 are supported");
    auto ig = it->find("ignore");
    if (ig != it->end() && !ig->is_null()) {
      if (!ig->is_array()) return Status::Error(where + ".ignore' must be a list");
      for (const auto& e : *ig) {
        if (!e.is_string()) return Status::Error(where + ".ignore' holds a non-string");
        std::string s = e.get<std::string>();
        if (s.rfind("re:", 0) == 0) {
          const std::string pattern = s.substr(3);
          if (pattern.size() > kMaxIgnoreRegexChars || regex_group_depth(pattern) > kMaxIgnoreRegexDepth)
            return Status::Error(where + ".ignore' holds a regex longer than " + std::to_string(kMaxIgnoreRegexChars) +
                                 " characters or nested deeper than " + std::to_string(kMaxIgnoreRegexDepth) + " groups");
          try { std::regex re(pattern); } catch (const std::exception&) {
            return Status::Error(where + ".ignore' entry '" + s + "' is not a valid regex");
          }
        }
        q->ignore.push_back(s);
      }
    }
  } else if (q->method == "fp8") {
    std::string fmt = "e4m3";
    auto f = it->find("fmt");
    if (f != it->end() && f->is_string()) fmt = f->get<std::string>();
    if (fmt != "e4m3") return Status::Error(where + ".fmt' is '" + fmt + "': only e4m3 is supported");
    q->format = fmt;
    auto b = it->find("weight_block_size");
    if (b == it->end() || !b->is_array() || b->size() != 2 || !(*b)[0].is_number_integer() || !(*b)[1].is_number_integer())
      return Status::Error(where + ".weight_block_size' is missing (expected [128, 128])");
    q->weight_block_size = {(*b)[0].get<int>(), (*b)[1].get<int>()};
    if (q->weight_block_size[0] != 128 || q->weight_block_size[1] != 128)
      return Status::Error(where + ".weight_block_size' must be [128, 128]");
  } else {
    return Status::Error(where + ".quant_method' is '" + q->method + "': unknown quantization format");
  }
  return Status::OK();
}

Status parse(const json& j, const std::string& path, ModelConfig* c) {
  if (!j.is_object()) return Status::Error(path + ": not a JSON object");
  Reader r(j, path);
  KK_RETURN_IF_ERROR(r.opt_string("model_type", &c->model_type, ""));
  if (c->model_type.empty()) return r.error("model_type", "is missing");
  if (c->model_type != "kimi_k2" && c->model_type != "deepseek_v3")
    return r.error("model_type", "is '" + c->model_type + "', expected kimi_k2 or deepseek_v3");
  auto a = j.find("architectures");
  c->architecture = "DeepseekV3ForCausalLM";
  if (a != j.end() && a->is_array() && !a->empty() && (*a)[0].is_string()) c->architecture = (*a)[0].get<std::string>();
  std::string act;
  KK_RETURN_IF_ERROR(r.opt_string("hidden_act", &act, "silu"));
  if (act != "silu") return r.error("hidden_act", "is '" + act + "', only silu is supported");

  KK_RETURN_IF_ERROR(r.req_int("vocab_size", &c->vocab_size));
  KK_RETURN_IF_ERROR(r.req_int("hidden_size", &c->hidden_size));
  KK_RETURN_IF_ERROR(r.req_int("intermediate_size", &c->intermediate_size));
  KK_RETURN_IF_ERROR(r.req_int("num_hidden_layers", &c->num_hidden_layers));
  KK_RETURN_IF_ERROR(r.req_int("num_attention_heads", &c->num_attention_heads));
  // q_lora_rank must be present; null means a plain q_proj (Moonlight).
  if (!j.contains("q_lora_rank")) return r.error("q_lora_rank", "is missing (use null for a plain q_proj)");
  KK_RETURN_IF_ERROR(r.opt_int("q_lora_rank", &c->q_lora_rank, 0, 0));
  KK_RETURN_IF_ERROR(r.req_int("kv_lora_rank", &c->kv_lora_rank));
  KK_RETURN_IF_ERROR(r.req_int("qk_nope_head_dim", &c->qk_nope_head_dim, 0));
  KK_RETURN_IF_ERROR(r.req_int("qk_rope_head_dim", &c->qk_rope_head_dim));
  KK_RETURN_IF_ERROR(r.req_int("v_head_dim", &c->v_head_dim));
  if (c->qk_rope_head_dim % 2) return r.error("qk_rope_head_dim", "must be even");

  KK_RETURN_IF_ERROR(r.opt_int("n_routed_experts", &c->n_routed_experts, 0));
  if (c->n_routed_experts > 0) {
    KK_RETURN_IF_ERROR(r.req_int("num_experts_per_tok", &c->num_experts_per_tok));
    KK_RETURN_IF_ERROR(r.req_int("moe_intermediate_size", &c->moe_intermediate_size));
    KK_RETURN_IF_ERROR(r.opt_int("n_shared_experts", &c->n_shared_experts, kDefaultNShared));
    KK_RETURN_IF_ERROR(r.opt_int("first_k_dense_replace", &c->first_k_dense_replace, kDefaultFirstKDense));
    KK_RETURN_IF_ERROR(r.opt_int("n_group", &c->n_group, kDefaultNGroup, 1));
    KK_RETURN_IF_ERROR(r.opt_int("topk_group", &c->topk_group, kDefaultTopkGroup, 1));
    int freq = 1;
    KK_RETURN_IF_ERROR(r.opt_int("moe_layer_freq", &freq, 1, 1));
    if (freq != 1) return r.error("moe_layer_freq", "must be 1");
    if (c->num_experts_per_tok > c->n_routed_experts)
      return r.error("num_experts_per_tok", "exceeds n_routed_experts");
    if (c->n_routed_experts % c->n_group) return r.error("n_group", "must divide n_routed_experts");
    if (c->topk_group > c->n_group) return r.error("topk_group", "exceeds n_group");
    if (c->num_experts_per_tok > c->topk_group * (c->n_routed_experts / c->n_group))
      return r.error("topk_group", "leaves fewer experts than num_experts_per_tok");
  } else {
    c->num_experts_per_tok = 0;
    c->first_k_dense_replace = c->num_hidden_layers;
  }
  KK_RETURN_IF_ERROR(r.opt_double("routed_scaling_factor", &c->routed_scaling_factor, kDefaultRoutedScaling));
  KK_RETURN_IF_ERROR(r.opt_bool("norm_topk_prob", &c->norm_topk_prob, true));
  KK_RETURN_IF_ERROR(r.opt_string("scoring_func", &c->scoring_func, "sigmoid"));
  if (c->scoring_func != "sigmoid" && c->scoring_func != "softmax")
    return r.error("scoring_func", "is '" + c->scoring_func + "', expected sigmoid or softmax");
  KK_RETURN_IF_ERROR(r.opt_string("topk_method", &c->topk_method, "noaux_tc"));
  KK_RETURN_IF_ERROR(r.opt_double("rms_norm_eps", &c->rms_norm_eps, kDefaultRmsEps));
  if (!(c->rms_norm_eps > 0)) return r.error("rms_norm_eps", "must be positive");
  KK_RETURN_IF_ERROR(r.opt_double("rope_theta", &c->rope_theta, kDefaultRopeTheta));
  // transformers >= 5 moves rope_theta into rope_parameters.
  auto rp = j.find("rope_parameters");
  if (!j.contains("rope_theta") && rp != j.end() && rp->is_object())
    KK_RETURN_IF_ERROR(Reader(*rp, path + " (rope_parameters)").opt_double("rope_theta", &c->rope_theta, kDefaultRopeTheta));
  if (!(c->rope_theta > 0)) return r.error("rope_theta", "must be positive");
  KK_RETURN_IF_ERROR(r.opt_int("max_position_embeddings", &c->max_position_embeddings, kDefaultMaxPos, 1));
  KK_RETURN_IF_ERROR(r.opt_bool("tie_word_embeddings", &c->tie_word_embeddings, false));
  KK_RETURN_IF_ERROR(r.token_id("bos_token_id", &c->bos_token_id));
  KK_RETURN_IF_ERROR(r.token_id("eos_token_id", &c->eos_token_id));
  KK_RETURN_IF_ERROR(parse_rope_scaling(j, path, &c->rope_scaling));
  KK_RETURN_IF_ERROR(parse_quant(j, path, &c->quant));
  return Status::OK();
}

json quant_to_json(const QuantConfig& q) {
  if (q.method == "fp8")
    return {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"activation_scheme", "dynamic"},
            {"weight_block_size", q.weight_block_size}};
  json weights = {{"actorder", nullptr}, {"block_structure", nullptr}, {"dynamic", false},
                  {"group_size", q.group_size}, {"num_bits", q.num_bits}, {"observer", "minmax"},
                  {"observer_kwargs", json::object()}, {"strategy", "group"},
                  {"symmetric", q.symmetric}, {"type", "int"}};
  json group = {{"input_activations", nullptr}, {"output_activations", nullptr},
                {"targets", {"Linear"}}, {"weights", weights}};
  return {{"config_groups", {{"group_0", group}}}, {"format", q.format}, {"ignore", q.ignore},
          {"kv_cache_scheme", nullptr}, {"quant_method", q.method}, {"quantization_status", "compressed"}};
}

bool is_wrapper(const json& j) {
  auto mt = j.find("model_type");
  if (mt != j.end() && mt->is_string() && mt->get<std::string>() == kK25ModelType) return true;
  auto a = j.find("architectures");
  return a != j.end() && a->is_array() && !a->empty() && (*a)[0].is_string() &&
         (*a)[0].get<std::string>() == kK25Architecture;
}

// K2.5 / K2.6: the text backbone under text_config. Its own model_type varies between copies
// (kimi_k2, deepseek_v3, or a name of Moonshot's own), so the top level decides what the model is
// and the text model is read as K2 unless it says deepseek_v3. Keys the wrapper keeps at the top
// level (quantization_config, bos/eos ids) fill in what text_config leaves out.
Status parse_wrapped(const json& top, const std::string& path, ModelConfig* c) {
  auto tc = top.find("text_config");
  if (tc == top.end() || !tc->is_object())
    return Status::Error(path + ": field 'text_config' is missing (a " + std::string(kK25Architecture) +
                         " config nests its language model there)");
  json text = *tc;
  const std::string own = text.value("model_type", std::string());
  if (own != "kimi_k2" && own != "deepseek_v3") text["model_type"] = "kimi_k2";
  // The backbone is a DeepseekV3ForCausalLM whatever it says, unless it names another class
  // (a text_config naming the wrapper itself would make the flat config written back a wrapper).
  auto ta = text.find("architectures");
  if (ta == text.end() || is_wrapper(json{{"architectures", *ta}})) text["architectures"] = {"DeepseekV3ForCausalLM"};
  for (const char* k : {"quantization_config", "bos_token_id", "eos_token_id", "tie_word_embeddings"}) {
    auto it = text.find(k);
    if ((it == text.end() || it->is_null()) && top.contains(k)) text[k] = top[k];
  }
  KK_RETURN_IF_ERROR(parse(text, path + " (text_config)", c));
  auto a = top.find("architectures");
  c->wrapper.architecture = (a != top.end() && a->is_array() && !a->empty() && (*a)[0].is_string())
                                ? (*a)[0].get<std::string>() : kK25Architecture;
  c->wrapper.model_type = top.value("model_type", std::string(kK25ModelType));
  if (c->wrapper.model_type.empty()) c->wrapper.model_type = kK25ModelType;
  c->wrapper.tensor_prefix = kK25TensorPrefix;
  return Status::OK();
}

}  // namespace

std::string model_config_to_json(const ModelConfig& c) {
  json j = {
      {"architectures", {c.architecture}}, {"model_type", c.model_type}, {"torch_dtype", "bfloat16"},
      {"hidden_act", "silu"}, {"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size}, {"moe_intermediate_size", c.moe_intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_attention_heads},
      {"q_lora_rank", c.q_lora_rank > 0 ? json(c.q_lora_rank) : json(nullptr)},
      {"kv_lora_rank", c.kv_lora_rank}, {"qk_nope_head_dim", c.qk_nope_head_dim},
      {"qk_rope_head_dim", c.qk_rope_head_dim}, {"v_head_dim", c.v_head_dim},
      {"n_routed_experts", c.n_routed_experts > 0 ? json(c.n_routed_experts) : json(nullptr)},
      {"num_experts_per_tok", c.num_experts_per_tok > 0 ? json(c.num_experts_per_tok) : json(nullptr)},
      {"n_shared_experts", c.n_shared_experts}, {"first_k_dense_replace", c.first_k_dense_replace},
      {"n_group", c.n_group}, {"topk_group", c.topk_group}, {"moe_layer_freq", 1},
      {"routed_scaling_factor", c.routed_scaling_factor}, {"norm_topk_prob", c.norm_topk_prob},
      {"scoring_func", c.scoring_func}, {"topk_method", c.topk_method},
      {"rms_norm_eps", c.rms_norm_eps}, {"rope_theta", c.rope_theta},
      {"max_position_embeddings", c.max_position_embeddings},
      {"tie_word_embeddings", c.tie_word_embeddings}, {"num_nextn_predict_layers", 0},
      {"attention_bias", false}, {"attention_dropout", 0.0}, {"use_cache", true},
      {"bos_token_id", c.bos_token_id >= 0 ? json(c.bos_token_id) : json(nullptr)},
      {"eos_token_id", c.eos_token_id >= 0 ? json(c.eos_token_id) : json(nullptr)}};
  if (c.rope_scaling.type == "yarn") {
    const RopeScaling& r = c.rope_scaling;
    j["rope_scaling"] = {{"type", "yarn"}, {"rope_type", "yarn"}, {"factor", r.factor},
                         {"original_max_position_embeddings", r.original_max_position_embeddings},
                         {"beta_fast", r.beta_fast}, {"beta_slow", r.beta_slow},
                         {"mscale", r.mscale}, {"mscale_all_dim", r.mscale_all_dim}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  if (!c.quant.method.empty()) j["quantization_config"] = quant_to_json(c.quant);
  return j.dump(2) + "\n";
}

Status parse_model_config(const std::string& json_text, const std::string& path, ModelConfig* out) {
  try {
    json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Status::Error(path + ": not valid JSON");
    ModelConfig c;
    if (j.is_object() && is_wrapper(j)) KK_RETURN_IF_ERROR(parse_wrapped(j, path, &c));
    else KK_RETURN_IF_ERROR(parse(j, path, &c));
    *out = std::move(c);
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Error(path + ": " + e.what());
  }
}

}  // namespace kk

// test_loader_malformed.cpp — a corpus of malformed checkpoints generated from tiny-k2: each must
// fail with a message naming the file and the tensor or field, and the process must survive. Also
// the inputs the parser fuzzers found (native/tests/fuzz_regressions/), each checked again.
#include "loader_test_util.h"
#include <map>
#include "parser_checks.h"

// ---------------------------------------------------------------------------------------------
// Malformed checkpoints.

static const char* kShard1 = "model-00001-of-00002.safetensors";
static const char* kShard2 = "model-00002-of-00002.safetensors";

// Rewrites a shard's header through `edit`, keeping the data area byte for byte.
static void edit_header(const std::string& path, const std::function<void(json&)>& edit) {
  std::string f = slurp(path);
  uint64_t n;
  std::memcpy(&n, f.data(), 8);
  json h = json::parse(f.substr(8, n));
  edit(h);
  std::string hs = h.dump();
  uint64_t m = hs.size();
  std::string out(reinterpret_cast<const char*>(&m), 8);
  spit(path, out + hs + f.substr(8 + n));
}
// Overwrites bytes of a tensor's data in place.
static void poke(const std::string& path, const std::string& tensor, size_t offset, const void* bytes, size_t len) {
  std::shared_ptr<SafetensorsFile> f;
  Status s = SafetensorsFile::open(path, &f);
  if (!s.ok()) { CHECK(false, "%s", s.message().c_str()); return; }
  const StTensor* t = f->find(tensor);
  if (!t) { CHECK(false, "no %s", tensor.c_str()); return; }
  std::string d = slurp(path);
  uint64_t n;
  std::memcpy(&n, d.data(), 8);
  std::memcpy(&d[8 + n + t->begin + offset], bytes, len);
  f.reset();
  spit(path, d);
}
static void edit_json(const std::string& path, const std::function<void(json&)>& edit) {
  json j = json::parse(slurp(path));
  edit(j);
  spit(path, j.dump(2));
}

struct Case {
  const char* what;
  std::function<void(const std::string& dir)> corrupt;
  std::vector<std::string> expect;  // substrings of the error message
};

static void test_malformed(const std::string& tmp) {
  const std::string L1 = "model.layers.1.", L2 = "model.layers.2.";
  std::vector<Case> cases = {
      {"truncated shard", [](const std::string& d) { fs::resize_file(d + "/" + kShard2, fs::file_size(d + "/" + kShard2) * 6 / 10); },
       {kShard2, "tensor 'model.layers.", "past the data area"}},
      {"header length past the end", [](const std::string& d) {
         std::string f = slurp(d + "/" + kShard1);
         uint64_t n = f.size();
         std::memcpy(&f[0], &n, 8);
         spit(d + "/" + kShard1, f);
       }, {kShard1, "header length"}},
      {"shard shorter than 8 bytes", [](const std::string& d) { spit(d + "/" + kShard1, "abc"); }, {kShard1, "truncated"}},
      {"bad JSON header", [](const std::string& d) {
         std::string f = slurp(d + "/" + kShard1);
         f[8] = '#';
         spit(d + "/" + kShard1, f);
       }, {kShard1, "header is not valid JSON"}},
      {"header not an object", [](const std::string& d) {
         std::string f = slurp(d + "/" + kShard1);
         uint64_t n;
         std::memcpy(&n, f.data(), 8);
         std::string h = "[1, 2, 3]" + std::string(size_t(n) - 9, ' ');
         spit(d + "/" + kShard1, f.substr(0, 8) + h + f.substr(8 + n));
       }, {kShard1, "not a JSON object"}},
      {"deeply nested header", [](const std::string& d) {
         const size_t depth = 200000;  // a recursive parser or destructor would overflow the stack
         std::string h = std::string(depth, '[') + std::string(depth, ']');
         uint64_t n = h.size();
         spit(d + "/" + kShard1, std::string(reinterpret_cast<const char*>(&n), 8) + h);
       }, {kShard1, "not a JSON object"}},
      {"overlapping offsets", [&](const std::string& d) {
         edit_header(d + "/" + kShard1, [](json& h) {
           h["model.layers.0.mlp.up_proj.weight"]["data_offsets"] = h["model.layers.0.mlp.gate_proj.weight"]["data_offsets"];
         });
       }, {kShard1, "overlap", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.gate_proj.weight"}},
      {"out-of-range offsets", [&](const std::string& d) {
         edit_header(d + "/" + kShard1, [](json& h) {
           auto& o = h["model.layers.0.self_attn.q_a_proj.weight"]["data_offsets"];
           uint64_t len = o[1].get<uint64_t>() - o[0].get<uint64_t>();
           o = {uint64_t(1) << 40, (uint64_t(1) << 40) + len};
         });
       }, {kShard1, "model.layers.0.self_attn.q_a_proj.weight", "past the data area"}},
      {"unknown dtype", [&](const std::string& d) {
         edit_header(d + "/" + kShard1, [](json& h) { h["model.layers.0.self_attn.o_proj.weight"]["dtype"] = "Q7"; });
       }, {kShard1, "model.layers.0.self_attn.o_proj.weight", "unknown dtype"}},
      {"negative dimension", [&](const std::string& d) {
         edit_header(d + "/" + kShard1, [](json& h) { h["model.norm.weight"]["shape"] = {-256}; });
       }, {kShard1, "model.norm.weight", "negative"}},
      {"size differs from shape", [&](const std::string& d) {
         edit_header(d + "/" + kShard1, [](json& h) { h["model.norm.weight"]["shape"] = {255}; });
       }, {kShard1, "model.norm.weight", "bytes"}},
      {"wrong dtype", [&](const std::string& d) {
         edit_header(d + "/" + kShard1, [](json& h) { h["model.layers.0.self_attn.kv_a_proj_with_mqa.weight"]["dtype"] = "I16"; });
       }, {kShard1, "model.layers.0.self_attn.kv_a_proj_with_mqa.weight", "dtype I16"}},
      {"wrong scale dtype", [&](const std::string& d) {
         std::string t = L1 + "mlp.experts.3.up_proj.weight_scale";
         std::string sh = shard_of(d, t);
         edit_header(d + "/" + sh, [&](json& h) { h[t]["dtype"] = "F16"; });
       }, {"mlp.experts.3.up_proj.weight_scale", "dtype F16"}},
      {"wrong shape", [&](const std::string& d) {
         std::string t = L2 + "self_attn.kv_b_proj.weight";
         std::string sh = shard_of(d, t);
         edit_header(d + "/" + sh, [&](json& h) {
           auto s = h[t]["shape"];
           h[t]["shape"] = {s[1], s[0]};
         });
       }, {"model.layers.2.self_attn.kv_b_proj.weight", "shape [64, 256]"}},
      {"tensor missing from its shard", [&](const std::string& d) {
         std::string t = L2 + "self_attn.o_proj.weight";
         std::string sh = shard_of(d, t);
         edit_header(d + "/" + sh, [&](json& h) { h.erase(t); });
       }, {".safetensors", "model.layers.2.self_attn.o_proj.weight", "missing"}},
      {"tensor missing from the index", [&](const std::string& d) {
         edit_json(d + "/model.safetensors.index.json", [](json& j) { j["weight_map"].erase("model.layers.3.post_attention_layernorm.weight"); });
       }, {"model.safetensors.index.json", "model.layers.3.post_attention_layernorm.weight", "missing"}},
      {"missing router bias", [&](const std::string& d) {
         std::string t = L1 + "mlp.gate.e_score_correction_bias";
         std::string sh = shard_of(d, t);
         edit_header(d + "/" + sh, [&](json& h) { h.erase(t); });
       }, {"model.layers.1.mlp.gate.e_score_correction_bias", "missing"}},
      {"missing shard named in the index", [&](const std::string& d) {
         edit_json(d + "/model.safetensors.index.json", [](json& j) { j["weight_map"]["model.layers.3.mlp.experts.7.up_proj.weight_packed"] = "model-00003-of-00003.safetensors"; });
       }, {"model.safetensors.index.json", "model-00003-of-00003.safetensors", "model.layers.3.mlp.experts.7.up_proj.weight_packed", "does not exist"}},
      {"bad index JSON", [](const std::string& d) { spit(d + "/model.safetensors.index.json", "{\"weight_map\": {"); },
       {"model.safetensors.index.json", "JSON"}},
      {"index without weight_map", [](const std::string& d) { spit(d + "/model.safetensors.index.json", "{\"metadata\": {}}"); },
       {"model.safetensors.index.json", "weight_map"}},
      {"wrong weight_shape", [&](const std::string& d) {
         std::string t = L1 + "mlp.experts.2.gate_proj.weight_shape";
         int32_t v[2] = {64, 128};
         poke(d + "/" + shard_of(d, t), t, 0, v, 8);
       }, {"model.layers.1.mlp.experts.2.gate_proj.weight_shape", "[64, 128]"}},
      {"NaN scale", [&](const std::string& d) {
         std::string t = "model.layers.3.mlp.experts.9.down_proj.weight_scale";
         uint16_t nan = 0x7FC0;
         poke(d + "/" + shard_of(d, t), t, 10, &nan, 2);
       }, {".safetensors", "model.layers.3.mlp.experts.9.down_proj.weight_scale", "invalid scale"}},
      {"zero scale", [&](const std::string& d) {
         std::string t = "model.layers.2.mlp.experts.4.up_proj.weight_scale";
         uint16_t zero = 0;
         poke(d + "/" + shard_of(d, t), t, 0, &zero, 2);
       }, {".safetensors", "model.layers.2.mlp.experts.4.up_proj.weight_scale", "invalid scale"}},
      {"infinite scale", [&](const std::string& d) {
         std::string t = "model.layers.2.mlp.experts.4.gate_proj.weight_scale";
         uint16_t inf = 0x7F80;
         poke(d + "/" + shard_of(d, t), t, 2, &inf, 2);
       }, {"model.layers.2.mlp.experts.4.gate_proj.weight_scale", "invalid scale"}},
      {"unknown quantization format", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["quantization_config"]["format"] = "marlin-24"; });
       }, {"config.json", "quantization_config.format", "marlin-24"}},
      {"unknown quantization method", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["quantization_config"]["quant_method"] = "awq"; });
       }, {"config.json", "quantization_config.quant_method", "awq"}},
      {"unsupported quantization scheme", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["quantization_config"]["config_groups"]["group_0"]["weights"]["group_size"] = 128; });
       }, {"config.json", "quantization_config.config_groups", "group_size 128"}},
      {"config missing a field", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j.erase("kv_lora_rank"); });
       }, {"config.json", "kv_lora_rank", "missing"}},
      {"config field of the wrong type", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["num_attention_heads"] = "four"; });
       }, {"config.json", "num_attention_heads"}},
      {"config not JSON", [](const std::string& d) { spit(d + "/config.json", "{ \"model_type\": "); }, {"config.json", "JSON"}},
      {"unknown model_type", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["model_type"] = "llama"; });
       }, {"config.json", "model_type", "llama"}},
      {"unsupported rope_scaling", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["rope_scaling"]["type"] = "linear"; j["rope_scaling"]["rope_type"] = "linear"; });
       }, {"config.json", "rope_scaling", "linear"}},
      {"vocab mismatch", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["vocab_size"] = 4096; });
       }, {".safetensors", "model.embed_tokens.weight", "vocab mismatch"}},
      {"layer count beyond the checkpoint", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["num_hidden_layers"] = 5; });
       }, {"model.safetensors.index.json", "model.layers.4.", "missing"}},
      {"more experts than stored", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["n_routed_experts"] = 32; });
       }, {"model.layers.1.mlp.gate.weight", "shape"}},
      {"quantized module listed as ignored", [](const std::string& d) {
         edit_json(d + "/config.json", [](json& j) { j["quantization_config"]["ignore"].push_back("re:.*experts\\.5\\..*"); });
       }, {"model.layers.1.mlp.experts.5.gate_proj.weight", "missing"}},
      {"no config.json", [](const std::string& d) { fs::remove(d + "/config.json"); }, {"config.json", "cannot open"}},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string dir = tmp + "/bad" + std::to_string(n++);
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(tiny_dir()))
      if (e.path().filename() != "reference.safetensors") fs::copy_file(e.path(), dir + "/" + e.path().filename().string());
    c.corrupt(dir);
    ModelWeights w;
    Status s = load_checkpoint(dir, LoaderOptions(), nullptr, &w);
    CHECK(!s.ok(), "[%s] loaded without error", c.what);
    if (std::getenv("KK_VERBOSE")) std::printf("  %-36s -> %s\n", c.what, s.message().c_str());
    for (const auto& sub : c.expect)
      CHECK(s.message().find(sub) != std::string::npos, "[%s] message lacks '%s': %s", c.what, sub.c_str(), s.message().c_str());
    fs::remove_all(dir);
  }
  CHECK(n >= 15, "only %d malformed cases", n);
  std::printf("malformed checkpoints: %d cases\n", n);
}

// ---------------------------------------------------------------------------------------------
// Inputs with which the parser fuzzers (scripts/fuzz-parsers.sh) once broke a parser's promise,
// one folder per fuzz target (native/fuzz/fuzz_<target>.cpp): each goes through the same check.

static const char* kFuzzRegressions = "native/tests/fuzz_regressions";

static void test_fuzz_regressions(const std::string& tmp) {
  // The index check looks for shards next to the index: a folder holding the seeds' shard names.
  const std::string index_dir = tmp + "/fuzz_index";
  fs::create_directories(index_dir);
  for (const std::string& s : kk_parser_checks::index_shard_names()) spit(index_dir + "/" + s, "");
  const std::map<std::string, std::function<std::string(const std::string&)>> targets = {
      {"safetensors_header", [](const std::string& b) {
         return kk_parser_checks::safetensors_header(reinterpret_cast<const uint8_t*>(b.data()), b.size()); }},
      {"config_json", [](const std::string& b) {
         return kk_parser_checks::config_json(reinterpret_cast<const uint8_t*>(b.data()), b.size()); }},
      {"safetensors_index", [&](const std::string& b) {
         return kk_parser_checks::safetensors_index(reinterpret_cast<const uint8_t*>(b.data()), b.size(), index_dir); }},
  };
  int n = 0;
  for (const auto& [target, check] : targets) {
    const std::string dir = std::string(kFuzzRegressions) + "/" + target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string broken = check(slurp(e.path().string()));
      CHECK(broken.empty(), "[fuzz %s/%s] %s", target.c_str(), e.path().filename().c_str(), broken.c_str());
      ++n;
    }
  }
  CHECK(n >= 1, "no fuzz regression inputs under %s (run from the repository root)", kFuzzRegressions);
  std::printf("fuzz regressions: %d inputs\n", n);
}

int main() {
  const std::string tmp = make_tmp_dir("test_loader_malformed");
  test_malformed(tmp);
  test_fuzz_regressions(tmp);
  return finish_loader_test("test_loader_malformed", tmp);
}

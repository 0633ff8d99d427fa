// test_loader.cpp — safetensors reader/writer, config parsing, checkpoint loading (INT4, FP8, bf16
// experts, requantize on/off), save -> load equality, synth, and a corpus of malformed checkpoints
// generated here: each must fail with a message naming the file and the tensor or field, and the
// process must survive.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "karakoram/engine.h"
#include "loader/fp8.h"
#include "loader/int4.h"
#include "loader/loader.h"
#include "loader/safetensors.h"

using namespace kk;
namespace fs = std::filesystem;
using json = nlohmann::json;

static int g_failures = 0;
#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                   \
      std::fprintf(stderr, "\n");                                          \
      g_failures++;                                                        \
    }                                                                      \
  } while (0)

static std::string shared_dir() {
  const char* e = std::getenv("KK_SHARED");
  return e ? e : "../shared";
}
static std::string tiny_dir() { return shared_dir() + "/fixtures/tiny-k2"; }

static std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
static void spit(const std::string& p, const std::string& data) {
  std::ofstream o(p, std::ios::binary | std::ios::trunc);
  o << data;
}

static void test_reference_reader() {
  std::string path = shared_dir() + "/fixtures/tiny-k2/reference.safetensors";
  std::shared_ptr<SafetensorsFile> f;
  Status s = SafetensorsFile::open(path, &f);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  std::vector<int32_t> ids;
  std::vector<int64_t> shape;
  s = f->read_i32("p0.input_ids", &ids, &shape);
  CHECK(s.ok() && shape.size() == 1 && shape[0] == 7 && ids.size() == 7, "%s", s.message().c_str());
  for (int32_t id : ids) CHECK(id >= 0 && id < 2048, "id %d", id);
  std::vector<float> logits;
  s = f->read_f32("p2.logits", &logits, &shape);
  CHECK(s.ok() && shape == (std::vector<int64_t>{120, 2048}), "%s", s.message().c_str());
  double sum2 = 0;
  for (float v : logits) sum2 += double(v) * v;
  double sd = std::sqrt(sum2 / logits.size());
  CHECK(sd > 0.5 && sd < 2.0, "logit rms %f (README says about 1.05)", sd);
  s = f->read_f32("p0.nope", &logits);
  CHECK(!s.ok() && s.message().find("p0.nope") != std::string::npos, "%s", s.message().c_str());
  s = f->read_f32("p0.input_ids", &logits);
  CHECK(!s.ok() && s.message().find("I32") != std::string::npos, "%s", s.message().c_str());
}

static void test_writer_roundtrip(const std::string& tmp) {
  std::string path = tmp + "/rt.safetensors";
  std::vector<float> a = {1.5f, -2.f, 3.25f, 0.f, 7.f, -8.f};
  std::vector<int32_t> b = {1, 2, 3};
  SafetensorsWriter w;
  w.add_bytes("a", "F32", {2, 3}, a.data());
  w.add_bytes("b", "I32", {3}, b.data());
  w.add("c", "U8", {1000}, [](uint8_t* d, size_t off, size_t len) { for (size_t i = 0; i < len; i++) d[i] = uint8_t(off + i); });
  w.set_metadata("format", "pt");
  Status s = w.write(path);
  CHECK(s.ok(), "%s", s.message().c_str());
  std::shared_ptr<SafetensorsFile> f;
  s = SafetensorsFile::open(path, &f);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  std::vector<float> ra;
  std::vector<int32_t> rb;
  CHECK(f->read_f32("a", &ra).ok() && ra == a, "a differs");
  CHECK(f->read_i32("b", &rb).ok() && rb == b, "b differs");
  const StTensor* c = f->find("c");
  CHECK(c && c->nbytes() == 1000 && c->data[999] == uint8_t(999), "c differs");
  CHECK(f->metadata().count("format") && f->metadata().at("format") == "pt", "metadata lost");
}


// ---------------------------------------------------------------------------------------------
// tiny-k2: shapes, formats, and INT4 values against the formula applied to the raw file.

static std::string shard_of(const std::string& dir, const std::string& tensor) {
  json idx = json::parse(slurp(dir + "/model.safetensors.index.json"));
  return idx["weight_map"].value(tensor, std::string());
}

static void test_load_tiny() {
  ModelWeights w;
  std::set<std::string> stages;
  Status s = load_checkpoint(tiny_dir(), LoaderOptions(), [&](const std::string& st, double f) {
    stages.insert(st);
    CHECK(f >= 0 && f <= 1, "progress %f", f);
  }, &w);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  CHECK(stages == (std::set<std::string>{"validate", "weights", "repack"}), "stages %zu", stages.size());
  const ModelConfig& c = w.config;
  CHECK(c.model_type == "kimi_k2" && c.hidden_size == 256 && c.q_lora_rank == 128 && c.kv_lora_rank == 64, "dims");
  CHECK(c.rope_scaling.type == "yarn" && c.rope_scaling.factor == 32.0 && c.rope_scaling.original_max_position_embeddings == 4096, "rope");
  CHECK(c.quant.method == "compressed-tensors" && c.quant.ignore.size() == 4, "quant");
  CHECK(c.n_group == 1 && c.topk_group == 1 && std::fabs(c.routed_scaling_factor - 2.827) < 1e-12, "routing knobs");
  CHECK(w.layers.size() == 4, "layers");
  CHECK(!w.layers[0].is_moe && w.layers[0].mlp.gate_proj.type == DType::BF16 &&
        w.layers[0].mlp.gate_proj.shape == (std::vector<int64_t>{384, 256}), "dense mlp");
  CHECK(w.embed_tokens.type == DType::BF16 && !w.embed_tokens.owner, "embedding should be a zero-copy view");
  CHECK(w.lm_head.shape == (std::vector<int64_t>{2048, 256}) && w.lm_head.data != w.embed_tokens.data, "lm_head");
  CHECK(w.norm.type == DType::F32 && w.norm.shape == (std::vector<int64_t>{256}), "norm");
  for (int l = 1; l < 4; l++) {
    const LayerWeights& L = w.layers[size_t(l)];
    CHECK(L.is_moe, "layer %d moe", l);
    CHECK(L.moe.gate_exps.type == DType::Q4 && L.moe.gate_exps.shape == (std::vector<int64_t>{16, 64, 256}), "gate_exps");
    CHECK(L.moe.down_exps.type == DType::Q4 && L.moe.down_exps.shape == (std::vector<int64_t>{16, 256, 64}), "down_exps");
    CHECK(L.moe.router_bias.type == DType::F32 && L.moe.router_bias.numel() == 16, "bias");
    CHECK(L.moe.shared.gate_proj.shape == (std::vector<int64_t>{64, 256}), "shared");
    CHECK(L.attn.q_b_proj.shape == (std::vector<int64_t>{4 * 48, 128}) && L.attn.kv_a_norm.type == DType::F32, "attn");
  }
  // End to end against the HF reference: hidden.0 is the embedding of the input ids, and
  // logits = hidden.4 @ lm_head^T, so the embedding and lm_head views are laid out as HF reads them.
  std::shared_ptr<SafetensorsFile> ref;
  CHECK(SafetensorsFile::open(tiny_dir() + "/reference.safetensors", &ref).ok(), "reference");
  if (ref) {
    std::vector<int32_t> ids;
    std::vector<float> h0, h4, logits;
    CHECK(ref->read_i32("p0.input_ids", &ids).ok() && ref->read_f32("p0.hidden.0", &h0).ok() &&
          ref->read_f32("p0.hidden.4", &h4).ok() && ref->read_f32("p0.logits", &logits).ok(), "reference tensors");
    const uint16_t* emb = static_cast<const uint16_t*>(w.embed_tokens.data);
    const uint16_t* lm = static_cast<const uint16_t*>(w.lm_head.data);
    double emb_err = 0, logit_err = 0;
    for (size_t t = 0; t < ids.size(); t++)
      for (int c = 0; c < 256; c++) emb_err = std::max(emb_err, double(std::fabs(bf16_to_f32(emb[ids[t] * 256 + c]) - h0[t * 256 + c])));
    for (size_t t = 0; t < ids.size(); t++)
      for (int v = 0; v < 2048; v += 97) {
        double acc = 0;
        for (int c = 0; c < 256; c++) acc += double(h4[t * 256 + c]) * bf16_to_f32(lm[v * 256 + c]);
        logit_err = std::max(logit_err, std::fabs(acc - logits[t * 2048 + v]));
      }
    CHECK(emb_err == 0 && logit_err < 1e-4, "embedding err %g, lm_head logit err %g", emb_err, logit_err);
    if (std::getenv("KK_VERBOSE")) std::printf("reference: embedding err %g, lm_head logit err %g\n", emb_err, logit_err);
  }
  // Dequantized INT4 values equal ((nibble - 8) * bf16 scale) straight from the packed words.
  struct Probe { int layer, expert; const char* proj; int row; };
  for (Probe p : {Probe{1, 0, "gate_proj", 0}, Probe{2, 5, "up_proj", 63}, Probe{3, 15, "down_proj", 200}}) {
    std::string m = "model.layers." + std::to_string(p.layer) + ".mlp.experts." + std::to_string(p.expert) + "." + p.proj;
    std::shared_ptr<SafetensorsFile> f;
    CHECK(SafetensorsFile::open(tiny_dir() + "/" + shard_of(tiny_dir(), m + ".weight_packed"), &f).ok(), "open");
    const StTensor* pk = f->find(m + ".weight_packed");
    std::shared_ptr<SafetensorsFile> fs2;
    CHECK(SafetensorsFile::open(tiny_dir() + "/" + shard_of(tiny_dir(), m + ".weight_scale"), &fs2).ok(), "open");
    const StTensor* sc = fs2->find(m + ".weight_scale");
    const int64_t cols = pk->shape[1] * 8;
    const Tensor& t = std::string(p.proj) == "gate_proj" ? w.layers[p.layer].moe.gate_exps
                      : std::string(p.proj) == "up_proj" ? w.layers[p.layer].moe.up_exps : w.layers[p.layer].moe.down_exps;
    const block_q4* row = static_cast<const block_q4*>(t.data) + (int64_t(p.expert) * t.shape[1] + p.row) * (cols / 32);
    std::vector<float> deq(static_cast<size_t>(cols));
    dequantize_row_q4(row, cols, deq.data());
    int bad = 0;
    for (int64_t i = 0; i < cols; i++) {
      uint32_t word;
      std::memcpy(&word, pk->data + (p.row * (cols / 8) + i / 8) * 4, 4);
      int q = int((word >> (4 * (i % 8))) & 0xF) - 8;
      uint16_t sb;
      std::memcpy(&sb, sc->data + (p.row * (cols / 32) + i / 32) * 2, 2);
      if (deq[size_t(i)] != float(q) * bf16_to_f32(sb)) bad++;
    }
    CHECK(bad == 0, "%s row %d: %d values differ from the packed formula", m.c_str(), p.row, bad);
  }
}

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
// Quantization math.

// Requantization error bound in scale steps: 1/2, plus 7.5 * 2^-8 when the bf16-rounded scale
// puts the group maximum just past 7.5 and the clamp to 7 adds to the rounding.
constexpr float kInt4ErrSteps = 0.5f + 7.5f / 256.f + 1e-5f;

static void test_int4_math() {
  // compressed-tensors' math by hand: absmax 0.75 -> scale 0.1 (bf16 0.10009765625);
  // 0.75 / s = 7.49 -> 7; -0.3 / s = -2.997 -> -3; 0.05 / s = 0.4995 -> 0; -0.75 / s -> -7.
  {
    float g[32] = {0.75f, -0.3f, 0.05f, -0.75f};
    for (int i = 4; i < 32; i++) g[i] = 0.01f * float(i % 7);
    block_q4 b;
    quantize_row_q4(g, 32, &b);
    float d[32];
    dequantize_row_q4(&b, 32, d);
    const float s = 0.10009765625f;
    CHECK(bf16_to_f32(b.scale_bf16) == s && d[0] == 7 * s && d[1] == -3 * s && d[2] == 0 && d[3] == -7 * s,
          "compressed-tensors math: scale %g, %g %g %g %g", bf16_to_f32(b.scale_bf16), d[0], d[1], d[2], d[3]);
  }
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 0.05f);
  const int cols = 256;
  std::vector<float> x(cols), y(cols);
  std::vector<block_q4> q(cols / 32);
  for (int trial = 0; trial < 20; trial++) {
    for (auto& v : x) v = nd(rng);
    if (trial == 1) for (int i = 0; i < 32; i++) x[i] = 0.f;  // all-zero group
    quantize_row_q4(x.data(), cols, q.data());
    dequantize_row_q4(q.data(), cols, y.data());
    for (int i = 0; i < cols; i++) {
      const float s = bf16_to_f32(q[i / 32].scale_bf16);
      CHECK(s > 0 && std::isfinite(s), "scale %g", s);
      // Half a step, plus the clamp of the group maximum (7.5 -> 7) after the scale's bf16 rounding.
      CHECK(std::fabs(x[i] - y[i]) <= kInt4ErrSteps * s, "round trip error %g > %g", std::fabs(x[i] - y[i]), kInt4ErrSteps * s);
    }
  }
  // Weights on K2's +-7 grid round-trip exactly, even from a bf16 copy (which rounds q * scale).
  std::uniform_int_distribution<int> qd(-7, 7);
  std::uniform_real_distribution<float> sd(1e-3f, 4e-3f);
  const int grid_cols = 32 * 512;  // many scales, so every bf16 mantissa region is exercised
  std::vector<float> exact(grid_cols);
  x.resize(grid_cols);
  y.resize(grid_cols);
  q.resize(grid_cols / 32);
  for (int g = 0; g < grid_cols / 32; g++) {
    const float s = bf16_to_f32(f32_to_bf16(sd(rng)));
    for (int i = 0; i < 32; i++) {
      exact[g * 32 + i] = float(i == 0 ? (g % 2 ? 7 : -7) : qd(rng)) * s;
      x[g * 32 + i] = bf16_to_f32(f32_to_bf16(exact[g * 32 + i]));
    }
  }
  quantize_row_q4(x.data(), grid_cols, q.data());
  dequantize_row_q4(q.data(), grid_cols, y.data());
  int off_grid = 0;
  for (int i = 0; i < grid_cols; i++) off_grid += exact[i] != y[i];
  CHECK(off_grid == 0, "+-7 grid values must round-trip exactly (%d differ)", off_grid);
  x.resize(cols);
  q.resize(cols / 32);
  // compressed-tensors packing <-> block_q4 is a bijection.
  std::vector<uint32_t> words(cols / 8), words2(cols / 8);
  std::vector<uint16_t> scales(cols / 32), scales2(cols / 32);
  for (auto& w : words) w = uint32_t(rng());
  for (auto& s : scales) s = f32_to_bf16(0.01f);
  int4_packed_to_q4_row(words.data(), scales.data(), cols, q.data());
  q4_row_to_int4_packed(q.data(), cols, words2.data(), scales2.data());
  CHECK(words == words2 && scales == scales2, "packing round trip");
}

static void test_fp8_math() {
  // Hand-computed e4m3 values: 0x38 = 2^(7-7) = 1; 0x3C = 1.5; 0xC0 = -2; 0x01 = 2^-9 (subnormal);
  // 0x7E = 1.75 * 2^8 = 448 (largest finite); 0x7F = NaN.
  CHECK(fp8_e4m3_to_f32(0x38) == 1.0f && fp8_e4m3_to_f32(0x3C) == 1.5f && fp8_e4m3_to_f32(0xC0) == -2.0f, "e4m3");
  CHECK(fp8_e4m3_to_f32(0x01) == 0.001953125f && fp8_e4m3_to_f32(0x7E) == 448.f && std::isnan(fp8_e4m3_to_f32(0x7F)), "e4m3 edges");
  // A 130x130 matrix has 2x2 tiles; element [129][1] uses tile (1, 0).
  std::vector<uint8_t> row(130, 0x3C);
  float scale_inv[4] = {0.5f, 0.25f, 0.125f, 2.0f};
  float out[130];
  dequantize_row_fp8(row.data(), 129, 130, scale_inv, out);
  CHECK(out[1] == 0.1875f && out[129] == 3.0f, "fp8 tile scales: %g %g", out[1], out[129]);
}

// ---------------------------------------------------------------------------------------------
// Synth, conversions, save -> load.

static bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.type == b.type && a.shape == b.shape && a.nbytes() == b.nbytes() &&
         std::memcmp(a.data, b.data, a.nbytes()) == 0 &&
         (a.type != DType::F8_E4M3 || (a.fp8_scale_inv && b.fp8_scale_inv));
}

static void compare_models(const ModelWeights& a, const ModelWeights& b, const char* what) {
  int bad = 0;
  auto eq = [&](const Tensor& x, const Tensor& y, const std::string& name) {
    if (x.empty() && y.empty()) return;
    if (!same_bytes(x, y)) { bad++; std::fprintf(stderr, "[%s] %s differs\n", what, name.c_str()); }
  };
  eq(a.embed_tokens, b.embed_tokens, "embed");
  eq(a.norm, b.norm, "norm");
  eq(a.lm_head, b.lm_head, "lm_head");
  CHECK(a.layers.size() == b.layers.size(), "[%s] layers", what);
  for (size_t l = 0; l < a.layers.size() && l < b.layers.size(); l++) {
    const LayerWeights &x = a.layers[l], &y = b.layers[l];
    std::string p = "layer " + std::to_string(l) + " ";
    eq(x.input_layernorm, y.input_layernorm, p + "in_norm");
    eq(x.post_attention_layernorm, y.post_attention_layernorm, p + "post_norm");
    eq(x.attn.q_a_proj, y.attn.q_a_proj, p + "q_a");
    eq(x.attn.q_a_norm, y.attn.q_a_norm, p + "q_a_norm");
    eq(x.attn.q_b_proj, y.attn.q_b_proj, p + "q_b");
    eq(x.attn.kv_a_proj_with_mqa, y.attn.kv_a_proj_with_mqa, p + "kv_a");
    eq(x.attn.kv_a_norm, y.attn.kv_a_norm, p + "kv_a_norm");
    eq(x.attn.kv_b_proj, y.attn.kv_b_proj, p + "kv_b");
    eq(x.attn.o_proj, y.attn.o_proj, p + "o");
    eq(x.mlp.gate_proj, y.mlp.gate_proj, p + "gate");
    eq(x.mlp.up_proj, y.mlp.up_proj, p + "up");
    eq(x.mlp.down_proj, y.mlp.down_proj, p + "down");
    eq(x.moe.router, y.moe.router, p + "router");
    eq(x.moe.router_bias, y.moe.router_bias, p + "bias");
    eq(x.moe.gate_exps, y.moe.gate_exps, p + "gate_exps");
    eq(x.moe.up_exps, y.moe.up_exps, p + "up_exps");
    eq(x.moe.down_exps, y.moe.down_exps, p + "down_exps");
    eq(x.moe.shared.gate_proj, y.moe.shared.gate_proj, p + "sh_gate");
    eq(x.moe.shared.up_proj, y.moe.shared.up_proj, p + "sh_up");
    eq(x.moe.shared.down_proj, y.moe.shared.down_proj, p + "sh_down");
    if (x.moe.gate_exps.type == DType::F8_E4M3 && !x.moe.gate_exps.empty()) {
      const int64_t ns = x.moe.gate_exps.shape[0] * ((x.moe.gate_exps.shape[1] + 127) / 128) * ((x.moe.gate_exps.shape[2] + 127) / 128);
      if (std::memcmp(x.moe.gate_exps.fp8_scale_inv, y.moe.gate_exps.fp8_scale_inv, size_t(ns) * 4)) { bad++; std::fprintf(stderr, "[%s] fp8 scales differ\n", what); }
    }
  }
  CHECK(bad == 0, "[%s] %d tensors differ", what, bad);
}

static void test_save_roundtrip(const std::string& tmp) {
  ModelWeights a, b;
  Status s = load_checkpoint(tiny_dir(), LoaderOptions(), nullptr, &a);
  CHECK(s.ok(), "%s", s.message().c_str());
  s = save_checkpoint(a, tmp + "/saved");
  CHECK(s.ok(), "%s", s.message().c_str());
  s = load_checkpoint(tmp + "/saved", LoaderOptions(), nullptr, &b);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  compare_models(a, b, "tiny-k2 saved");
  CHECK(b.config.quant.ignore == a.config.quant.ignore, "K2 ignore list kept");
  // The packed words themselves are identical to the fixture's.
  std::shared_ptr<SafetensorsFile> f1, f2;
  const std::string t = "model.layers.2.mlp.experts.11.down_proj.weight_packed";
  SafetensorsFile::open(tiny_dir() + "/" + shard_of(tiny_dir(), t), &f1);
  SafetensorsFile::open(tmp + "/saved/" + shard_of(tmp + "/saved", t), &f2);
  CHECK(f1 && f2 && f1->find(t) && f2->find(t) && std::memcmp(f1->find(t)->data, f2->find(t)->data, f1->find(t)->nbytes()) == 0,
        "packed words differ after save");
}

static void test_synth_tiny(const std::string& tmp) {
  SynthOptions o;
  o.preset = "tiny";
  o.seed = 42;
  o.routing_skew = 1.0;
  o.out_dir = tmp + "/synth";
  double last = -1;
  Status s = write_synthetic(o, [&](const std::string& st, double f) { CHECK(st == "weights" && f >= last, "progress"); last = f; });
  CHECK(s.ok(), "%s", s.message().c_str());
  CHECK(last == 1.0, "progress ends at %f", last);
  ModelWeights w;
  s = load_checkpoint(o.out_dir, LoaderOptions(), nullptr, &w);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  ModelConfig ref;
  CHECK(parse_model_config(slurp(tiny_dir() + "/config.json"), "tiny config", &ref).ok(), "parse");
  const ModelConfig& c = w.config;
  CHECK(c.model_type == ref.model_type && c.hidden_size == ref.hidden_size && c.vocab_size == ref.vocab_size &&
        c.num_hidden_layers == ref.num_hidden_layers && c.n_routed_experts == ref.n_routed_experts &&
        c.num_experts_per_tok == ref.num_experts_per_tok && c.q_lora_rank == ref.q_lora_rank &&
        c.kv_lora_rank == ref.kv_lora_rank && c.qk_nope_head_dim == ref.qk_nope_head_dim &&
        c.qk_rope_head_dim == ref.qk_rope_head_dim && c.v_head_dim == ref.v_head_dim &&
        c.moe_intermediate_size == ref.moe_intermediate_size && c.intermediate_size == ref.intermediate_size &&
        c.first_k_dense_replace == ref.first_k_dense_replace && c.routed_scaling_factor == ref.routed_scaling_factor &&
        c.rope_scaling.factor == ref.rope_scaling.factor && c.rope_scaling.mscale_all_dim == ref.rope_scaling.mscale_all_dim &&
        c.rope_theta == ref.rope_theta && c.quant.ignore == ref.quant.ignore && c.quant.method == ref.quant.method,
        "synth tiny config differs from the tiny-k2 fixture's");
  CHECK(w.layers[1].moe.gate_exps.type == DType::Q4, "synth experts INT4");
  // Zipf bias: the most popular expert gets 1, the next 1/2, ...
  std::vector<float> bias(static_cast<const float*>(w.layers[1].moe.router_bias.data),
                          static_cast<const float*>(w.layers[1].moe.router_bias.data) + 16);
  std::sort(bias.begin(), bias.end());
  CHECK(bias[15] == 1.0f && bias[14] == 0.5f && std::fabs(bias[0] - 1.f / 16) < 1e-7, "zipf bias");
  // Config round trip: to JSON and back.
  ModelConfig back;
  s = parse_model_config(model_config_to_json(ref), "roundtrip", &back);
  CHECK(s.ok() && model_config_to_json(back) == model_config_to_json(ref), "config JSON round trip");
  // Same seed, same bytes; different seed, different bytes.
  SynthOptions o2 = o;
  o2.out_dir = tmp + "/synth2";
  CHECK(write_synthetic(o2, nullptr).ok(), "synth2");
  CHECK(slurp(o.out_dir + "/model-00001-of-00001.safetensors") == slurp(o2.out_dir + "/model-00001-of-00001.safetensors"), "deterministic");
  // A single model.safetensors without an index loads too.
  fs::remove(o2.out_dir + "/model.safetensors.index.json");
  fs::rename(o2.out_dir + "/model-00001-of-00001.safetensors", o2.out_dir + "/model.safetensors");
  ModelWeights single;
  s = load_checkpoint(o2.out_dir, LoaderOptions(), nullptr, &single);
  CHECK(s.ok(), "single file: %s", s.message().c_str());
  if (s.ok()) compare_models(w, single, "single model.safetensors");
  fs::remove(o2.out_dir + "/model.safetensors");
  s = load_checkpoint(o2.out_dir, LoaderOptions(), nullptr, &single);
  CHECK(!s.ok() && s.message().find("model.safetensors") != std::string::npos, "%s", s.message().c_str());
  fs::remove_all(o2.out_dir);
}

// bf16 and FP8 experts: requantize to INT4 within half a scale step of the source; or kept as stored.
static void test_conversions(const std::string& tmp) {
  for (const char* fmt : {"bf16", "fp8"}) {
    SynthOptions o;
    o.preset = "tiny";
    o.layers = 2;
    o.experts = 4;
    o.expert_format = fmt;
    o.dense_format = fmt;
    o.out_dir = tmp + "/conv_" + fmt;
    Status s = write_synthetic(o, nullptr);
    CHECK(s.ok(), "%s", s.message().c_str());
    ModelWeights q, keep;
    LoaderOptions off;
    off.requantize = false;
    s = load_checkpoint(o.out_dir, LoaderOptions(), nullptr, &q);
    CHECK(s.ok(), "[%s] %s", fmt, s.message().c_str());
    s = load_checkpoint(o.out_dir, off, nullptr, &keep);
    CHECK(s.ok(), "[%s] %s", fmt, s.message().c_str());
    if (q.layers.size() != 2 || keep.layers.size() != 2) continue;
    const Tensor& tq = q.layers[1].moe.up_exps;
    const Tensor& tk = keep.layers[1].moe.up_exps;
    const bool is_fp8 = std::string(fmt) == "fp8";
    CHECK(tq.type == DType::Q4 && tk.type == (is_fp8 ? DType::F8_E4M3 : DType::BF16), "[%s] expert types", fmt);
    CHECK(tq.shape == (std::vector<int64_t>{4, 64, 256}) && tk.shape == tq.shape, "[%s] shapes", fmt);
    if (is_fp8) {
      const Tensor& qa = q.layers[0].attn.q_a_proj;
      CHECK(qa.type == DType::F8_E4M3 && qa.fp8_scale_inv && !qa.owner, "non-expert FP8 stays an e4m3 view with scales");
      // Hand check one element: byte * its tile's scale_inv.
      uint8_t b = static_cast<const uint8_t*>(qa.data)[130];  // row 0, column 130 -> tile (0, 1)
      int sign = b >> 7, e = (b >> 3) & 15, m = b & 7;
      double v = (sign ? -1 : 1) * (e ? (1 + m / 8.0) * std::ldexp(1.0, e - 7) : m / 8.0 * std::ldexp(1.0, -6));
      float row[256];
      dequantize_row_fp8(static_cast<const uint8_t*>(qa.data), 0, 256, qa.fp8_scale_inv, row);
      CHECK(std::fabs(row[130] - v * qa.fp8_scale_inv[1]) < 1e-9, "fp8 dequant %g vs %g", row[130], v * qa.fp8_scale_inv[1]);
    }
    // Requantized rows are within scale/2 of the source values.
    const int64_t E = 4, O = 64, I = 256, nb = I / 32;
    double worst = 0;
    for (int64_t e = 0; e < E; e++)
      for (int64_t r = 0; r < O; r++) {
        float src[256], deq[256];
        if (is_fp8) {
          const uint8_t* base = static_cast<const uint8_t*>(tk.data) + (e * O + r) * I;
          dequantize_row_fp8(base, r, I, tk.fp8_scale_inv + e * 1 * 2, src);
        } else {
          const uint16_t* base = static_cast<const uint16_t*>(tk.data) + (e * O + r) * I;
          for (int64_t c = 0; c < I; c++) src[c] = bf16_to_f32(base[c]);
        }
        const block_q4* blk = static_cast<const block_q4*>(tq.data) + (e * O + r) * nb;
        dequantize_row_q4(blk, I, deq);
        for (int64_t c = 0; c < I; c++) {
          const float half = 0.5f * bf16_to_f32(blk[c / 32].scale_bf16);
          worst = std::max(worst, double(std::fabs(src[c] - deq[c]) / half));
        }
      }
    CHECK(worst <= 2 * kInt4ErrSteps, "[%s] requantize error %.3f half-steps", fmt, worst);
    // Kept-as-stored experts and converted ones both survive save -> load bit for bit.
    for (auto* m : {&q, &keep}) {
      const std::string d = o.out_dir + (m == &q ? "_saved_q" : "_saved_keep");
      s = save_checkpoint(*m, d);
      CHECK(s.ok(), "%s", s.message().c_str());
      ModelWeights back;
      s = load_checkpoint(d, off, nullptr, &back);
      CHECK(s.ok(), "[%s] %s", fmt, s.message().c_str());
      if (s.ok()) compare_models(*m, back, m == &q ? "requantized saved" : "kept saved");
    }
  }
}

// A bf16 or f32 copy of an INT4 model (tiny-k2's experts dequantized) requantizes to exactly the
// original codes and scales: groups on an INT4 grid keep it.
static void test_requantize_dequantized_int4(const std::string& tmp) {
  ModelWeights orig;
  Status s = load_checkpoint(tiny_dir(), LoaderOptions(), nullptr, &orig);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  for (DType dt : {DType::F32, DType::BF16}) {
    ModelWeights w = orig;
    for (auto& L : w.layers) {
      if (!L.is_moe) continue;
      for (Tensor* t : {&L.moe.gate_exps, &L.moe.up_exps, &L.moe.down_exps}) {
        const int64_t rows = t->shape[0] * t->shape[1], cols = t->shape[2];
        std::shared_ptr<void> buf(std::malloc(size_t(rows * cols) * 4), std::free);
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = 0; r < rows; r++) {
          dequantize_row_q4(static_cast<const block_q4*>(t->data) + r * (cols / 32), cols, row.data());
          for (int64_t c = 0; c < cols; c++) {
            if (dt == DType::F32) static_cast<float*>(buf.get())[r * cols + c] = row[c];
            else static_cast<uint16_t*>(buf.get())[r * cols + c] = f32_to_bf16(row[c]);
          }
        }
        t->type = dt;
        t->owner = buf;
        t->data = buf.get();
      }
    }
    const std::string dir = tmp + "/dequant_" + dtype_name(dt);
    s = save_checkpoint(w, dir);
    CHECK(s.ok(), "%s", s.message().c_str());
    ModelWeights back;
    s = load_checkpoint(dir, LoaderOptions(), nullptr, &back);
    CHECK(s.ok(), "%s", s.message().c_str());
    if (s.ok()) compare_models(orig, back, dt == DType::F32 ? "f32 copy requantized" : "bf16 copy requantized");
    fs::remove_all(dir);
  }
}

// Moonlight's plain q_proj (q_lora_rank null) and tied embeddings: save -> load keeps them.
static void test_plain_q_and_tied(const std::string& tmp) {
  ModelWeights w;
  Status s = load_checkpoint(tiny_dir(), LoaderOptions(), nullptr, &w);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  w.config.model_type = "deepseek_v3";
  w.config.q_lora_rank = 0;
  w.config.tie_word_embeddings = true;
  w.lm_head = w.embed_tokens;
  const int64_t qdim = w.config.num_attention_heads * w.config.qk_head_dim();
  for (size_t l = 0; l < w.layers.size(); l++) {
    AttentionWeights& a = w.layers[l].attn;
    a.q_a_proj = a.q_a_norm = a.q_b_proj = Tensor();
    std::shared_ptr<void> buf(std::malloc(size_t(qdim * w.config.hidden_size) * 2), std::free);
    for (int64_t i = 0; i < qdim * w.config.hidden_size; i++)
      static_cast<uint16_t*>(buf.get())[i] = f32_to_bf16(float((i * 7919 + int64_t(l)) % 201 - 100) / 1600.f);
    a.q_proj.name = "q_proj";
    a.q_proj.type = DType::BF16;
    a.q_proj.shape = {qdim, w.config.hidden_size};
    a.q_proj.owner = buf;
    a.q_proj.data = buf.get();
  }
  const std::string dir = tmp + "/plain_q_tied";
  s = save_checkpoint(w, dir);
  CHECK(s.ok(), "%s", s.message().c_str());
  ModelWeights back;
  s = load_checkpoint(dir, LoaderOptions(), nullptr, &back);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  CHECK(back.config.q_lora_rank == 0 && back.config.tie_word_embeddings && back.config.model_type == "deepseek_v3", "config");
  CHECK(back.lm_head.data == back.embed_tokens.data, "tied lm_head must alias the embedding");
  CHECK(back.layers[0].attn.q_a_proj.empty() && !back.layers[0].attn.q_proj.empty(), "plain q_proj");
  compare_models(w, back, "plain q_proj + tied");
  CHECK(slurp(dir + "/config.json").find("\"q_lora_rank\": null") != std::string::npos, "q_lora_rank written as null");
  // A checkpoint whose config has q_lora_rank null but that lacks q_proj fails naming it.
  json idx = json::parse(slurp(dir + "/model.safetensors.index.json"));
  idx["weight_map"].erase("model.layers.1.self_attn.q_proj.weight");
  spit(dir + "/model.safetensors.index.json", idx.dump());
  s = load_checkpoint(dir, LoaderOptions(), nullptr, &back);
  CHECK(!s.ok() && s.message().find("model.layers.1.self_attn.q_proj.weight") != std::string::npos, "%s", s.message().c_str());
  fs::remove_all(dir);
}

static void test_config_variants() {
  // Moonlight-style: q_lora_rank null, no rope_scaling, deepseek_v3, DeepSeek's group routing.
  json j = json::parse(slurp(tiny_dir() + "/config.json"));
  j["model_type"] = "deepseek_v3";
  j["q_lora_rank"] = nullptr;
  j["rope_scaling"] = nullptr;
  j["n_group"] = 8;
  j["topk_group"] = 4;
  j["quantization_config"] = {{"quant_method", "fp8"}, {"fmt", "e4m3"}, {"weight_block_size", {128, 128}}};
  ModelConfig c;
  Status s = parse_model_config(j.dump(), "moon/config.json", &c);
  CHECK(s.ok(), "%s", s.message().c_str());
  CHECK(c.q_lora_rank == 0 && c.rope_scaling.type.empty() && c.n_group == 8 && c.topk_group == 4 &&
        c.quant.method == "fp8" && c.quant.weight_block_size == (std::vector<int>{128, 128}), "variant fields");
  j["n_group"] = 3;  // 16 experts cannot split into 3 groups
  s = parse_model_config(j.dump(), "moon/config.json", &c);
  CHECK(!s.ok() && s.message().find("n_group") != std::string::npos, "%s", s.message().c_str());
}

int main() {
  char tmpl[] = "/tmp/kk_test_loader_XXXXXX";
  std::string tmp = mkdtemp(tmpl);
  test_reference_reader();
  test_writer_roundtrip(tmp);
  test_int4_math();
  test_fp8_math();
  test_config_variants();
  test_load_tiny();
  test_malformed(tmp);
  test_save_roundtrip(tmp);
  test_synth_tiny(tmp);
  test_conversions(tmp);
  test_requantize_dequantized_int4(tmp);
  test_plain_q_and_tied(tmp);
  fs::remove_all(tmp);
  if (g_failures) { std::fprintf(stderr, "%d check(s) failed\n", g_failures); return 1; }
  std::printf("test_loader: ok\n");
  return 0;
}

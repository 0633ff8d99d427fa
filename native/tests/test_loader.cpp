// test_loader.cpp — safetensors reader/writer, config parsing, tiny-k2 loading (shapes, INT4 values
// against the formula applied to the raw file) and the INT4 / FP8 quantization math.
// Malformed checkpoints: test_loader_malformed.cpp; conversions and save -> load: test_loader_roundtrip.cpp.
#include "loader_test_util.h"
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
// Quantization math.


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
  const std::string tmp = make_tmp_dir("test_loader");
  test_reference_reader();
  test_writer_roundtrip(tmp);
  test_int4_math();
  test_fp8_math();
  test_config_variants();
  test_load_tiny();
  return finish_loader_test("test_loader", tmp);
}

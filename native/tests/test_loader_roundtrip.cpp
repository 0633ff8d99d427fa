// test_loader_roundtrip.cpp — synth, bf16/FP8 expert conversions (requantize on and off),
// save -> load equality, and config variants (plain q_proj, tied embeddings).
#include "loader_test_util.h"
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

int main() {
  const std::string tmp = make_tmp_dir("test_loader_roundtrip");
  test_save_roundtrip(tmp);
  test_synth_tiny(tmp);
  test_conversions(tmp);
  test_requantize_dequantized_int4(tmp);
  test_plain_q_and_tied(tmp);
  return finish_loader_test("test_loader_roundtrip", tmp);
}

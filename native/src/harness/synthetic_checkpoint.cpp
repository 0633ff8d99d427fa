// synthetic_checkpoint.cpp — write_synthetic: a random-weight checkpoint in Kimi-K2-Thinking's
// exact format (config.json with its quantization_config, <= 4 GB shards + index, INT4 routed
// experts as compressed-tensors), at the tiny-k2 fixture's size or at Kimi K2's real dimensions
// (model/presets.h).
//
// Values come from a counter-based hash of (seed, tensor, element), so any chunk of any tensor is
// generated independently and streamed to disk without ever holding a tensor in memory.
// Scales keep activations finite: Linear weights have std 1/sqrt(fan_in), norms ~1, embeddings ~1.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

#include "karakoram/tools.h"
#include "loader/checkpoint_writer.h"
#include "loader/int4.h"
#include "core/tensor.h"
#include "model/config.h"
#include "model/presets.h"

namespace kk {
namespace {

// Uniform INT4 codes q in [-7, 7] have std sqrt((15^2 - 1) / 12).
const double kInt4CodeStd = std::sqrt((15.0 * 15.0 - 1.0) / 12.0);
// A uniform variable on [-a, a] has std a / sqrt(3).
const double kUniformStdToHalfWidth = std::sqrt(3.0);
// Per-group (INT4) and per-tile (FP8) scales vary by +-25 % around their mean, as real ones do.
constexpr double kScaleJitter = 0.25;
// Norm weights are drawn from 1 +- this.
constexpr double kNormJitter = 0.1;
// Synthetic FP8 codes use exponents 4..8 (magnitudes 1/8 .. 3.75): never NaN, std about 1.
constexpr int kFp8MinExp = 4, kFp8ExpSpan = 5;
constexpr double kFp8CodeStd = 1.0;

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
inline uint64_t hash2(uint64_t key, uint64_t i) { return splitmix64(key ^ splitmix64(i)); }
inline double unit(uint64_t h) { return double(h >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
uint64_t name_key(uint64_t seed, const std::string& name) {
  uint64_t h = splitmix64(seed);
  for (char c : name) h = splitmix64(h ^ uint8_t(c));
  return h;
}

ModelConfig preset_config(const SynthOptions& o, Status* st) {
  ModelConfig c;
  const Status preset = kimi_k2_preset(o.preset, &c);
  if (!preset.ok()) {
    *st = Status::Error("synth: " + preset.message());
    return c;
  }
  if (o.layers > 0) c.num_hidden_layers = o.layers;
  else if (o.layers == 0) *st = Status::Error("synth: layers must be >= 1");
  if (o.experts > 0) {
    c.n_routed_experts = o.experts;
    c.num_experts_per_tok = std::min(c.num_experts_per_tok, o.experts);
  } else if (o.experts == 0) {
    *st = Status::Error("synth: experts must be >= 1");
  }
  if (o.expert_format == "int4") {
    c.quant.method = "compressed-tensors";
    c.quant.format = "pack-quantized";
    c.quant.ignore = {"lm_head", "re:.*self_attn.*", "re:.*shared_experts.*", "re:.*mlp\\.(gate|up|down)_proj.*"};
  } else if (o.expert_format == "fp8" || o.dense_format == "fp8") {
    c.quant.method = "fp8";
    c.quant.format = "e4m3";
    c.quant.weight_block_size = {KK_FP8_BLOCK, KK_FP8_BLOCK};
  }
  if (o.expert_format != "int4" && o.expert_format != "bf16" && o.expert_format != "fp8")
    *st = Status::Error("synth: expert_format must be int4, bf16 or fp8");
  if (o.dense_format != "bf16" && o.dense_format != "fp8")
    *st = Status::Error("synth: dense_format must be bf16 or fp8");
  return c;
}

class Synth {
 public:
  Synth(uint64_t seed, CheckpointWriter* w) : seed_(seed), w_(w) {}

  // bf16 uniform with the given std.
  void bf16(const std::string& name, std::vector<int64_t> shape, double stdev) {
    const uint64_t key = name_key(seed_, name);
    const float half = float(stdev * kUniformStdToHalfWidth);
    // One 64-bit hash gives four 16-bit uniforms (element i uses bits 16*(i%4) of hash i/4).
    const float step = 2.f * half / 65536.f;
    w_->add(name, "BF16", shape, [key, half, step](uint8_t* d, size_t off, size_t len) {
      const size_t first = off / 2, last = (off + len) / 2;
      uint64_t h = hash2(key, first / 4);
      for (size_t i = first; i < last; i++) {
        if (i % 4 == 0) h = hash2(key, i / 4);
        float v = float((h >> (16 * (i % 4))) & 0xffff) * step - half;
        uint16_t b = f32_to_bf16(v);
        std::memcpy(d + (i * 2 - off), &b, 2);
      }
    });
  }
  void norm(const std::string& name, int64_t n) {
    const uint64_t key = name_key(seed_, name);
    w_->add(name, "BF16", {n}, [key](uint8_t* d, size_t off, size_t len) {
      for (size_t i = off / 2; i < (off + len) / 2; i++) {
        uint16_t h = f32_to_bf16(float(1.0 + kNormJitter * (unit(hash2(key, i)) * 2.0 - 1.0)));
        std::memcpy(d + (i * 2 - off), &h, 2);
      }
    });
  }
  void f32(const std::string& name, std::shared_ptr<std::vector<float>> v) {
    w_->add(name, "F32", {int64_t(v->size())}, [v](uint8_t* d, size_t off, size_t len) {
      std::memcpy(d, reinterpret_cast<const uint8_t*>(v->data()) + off, len);
    });
  }
  // A Linear [out, in] in `format`: "bf16", "fp8" (e4m3 + scale_inv) or "int4" (compressed-tensors).
  void linear(const std::string& module, int64_t out, int64_t in, const std::string& format) {
    const double stdev = 1.0 / std::sqrt(double(in));
    if (format == "bf16") return bf16(module + ".weight", {out, in}, stdev);
    const uint64_t key = name_key(seed_, module);
    if (format == "fp8") {
      w_->add(module + ".weight", "F8_E4M3", {out, in}, [key](uint8_t* d, size_t off, size_t len) {
        for (size_t i = off; i < off + len; i++) {
          uint64_t h = hash2(key, i);
          uint8_t exp = uint8_t(kFp8MinExp + (h >> 8) % kFp8ExpSpan);
          d[i - off] = uint8_t(((h & 1) << 7) | (exp << 3) | ((h >> 4) & 7));
        }
      });
      const int64_t tr = (out + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK, tc = (in + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK;
      const uint64_t skey = key ^ 0x5ca1e;
      w_->add(module + ".weight_scale_inv", "F32", {tr, tc}, [skey, stdev](uint8_t* d, size_t off, size_t len) {
        for (size_t i = off / 4; i < (off + len) / 4; i++) {
          float s = float(stdev / kFp8CodeStd * (1.0 + kScaleJitter * (unit(hash2(skey, i)) * 2.0 - 1.0)));
          std::memcpy(d + (i * 4 - off), &s, 4);
        }
      });
      return;
    }
    // int4: nibbles q+8 with q uniform in [-7, 7]; scale per group of 32.
    w_->add(module + ".weight_packed", "I32", {out, in / kInt4PerWord}, [key](uint8_t* d, size_t off, size_t len) {
      for (size_t i = off / 4; i < (off + len) / 4; i++) {
        uint64_t h = hash2(key, i);
        uint32_t word = 0;
        for (int k = 0; k < kInt4PerWord; k++, h >>= 8) word |= uint32_t(1 + (h & 0xff) % 15) << (4 * k);
        std::memcpy(d + (i * 4 - off), &word, 4);
      }
    });
    const uint64_t skey = key ^ 0x5ca1e;
    w_->add(module + ".weight_scale", "BF16", {out, in / KK_Q4_GROUP}, [skey, stdev](uint8_t* d, size_t off, size_t len) {
      for (size_t i = off / 2; i < (off + len) / 2; i++) {
        float s = float(stdev / kInt4CodeStd * (1.0 + kScaleJitter * (unit(hash2(skey, i)) * 2.0 - 1.0)));
        uint16_t h = f32_to_bf16(s);
        std::memcpy(d + (i * 2 - off), &h, 2);
      }
    });
    auto shape = std::make_shared<std::vector<int32_t>>(std::vector<int32_t>{int32_t(out), int32_t(in)});
    w_->add(module + ".weight_shape", "I32", {2}, [shape](uint8_t* d, size_t off, size_t len) {
      std::memcpy(d, reinterpret_cast<const uint8_t*>(shape->data()) + off, len);
    });
  }

 private:
  uint64_t seed_;
  CheckpointWriter* w_;
};

// Router correction bias: expert of popularity rank r (a seeded permutation) gets (r+1)^-skew, so
// a few experts win most top-k choices (Zipf-like, as real routing is); skew 0 gives all zeros.
std::shared_ptr<std::vector<float>> zipf_bias(int E, double skew, uint64_t key) {
  auto v = std::make_shared<std::vector<float>>(size_t(E), 0.f);
  if (skew <= 0) return v;
  std::vector<int> perm(static_cast<size_t>(E));
  std::iota(perm.begin(), perm.end(), 0);
  for (int i = E - 1; i > 0; i--) std::swap(perm[size_t(i)], perm[size_t(hash2(key, uint64_t(i)) % uint64_t(i + 1))]);
  for (int r = 0; r < E; r++) (*v)[size_t(perm[size_t(r)])] = float(std::pow(double(r + 1), -skew));
  return v;
}

Status synth(const SynthOptions& o, const ProgressFn& progress) {
  if (o.out_dir.empty()) return Status::Error("synth: no output directory");
  Status st;
  ModelConfig c = preset_config(o, &st);
  KK_RETURN_IF_ERROR(st);
  CheckpointWriter w;
  Synth s(o.seed, &w);
  const int64_t H = c.hidden_size, nh = c.num_attention_heads;
  const std::string& df = o.dense_format;
  s.bf16("model.embed_tokens.weight", {c.vocab_size, H}, 1.0);
  for (int l = 0; l < c.num_hidden_layers; l++) {
    const std::string p = "model.layers." + std::to_string(l), a = p + ".self_attn";
    s.norm(p + ".input_layernorm.weight", H);
    s.norm(p + ".post_attention_layernorm.weight", H);
    s.linear(a + ".q_a_proj", c.q_lora_rank, H, df);
    s.norm(a + ".q_a_layernorm.weight", c.q_lora_rank);
    s.linear(a + ".q_b_proj", nh * c.qk_head_dim(), c.q_lora_rank, df);
    s.linear(a + ".kv_a_proj_with_mqa", c.kv_lora_rank + c.qk_rope_head_dim, H, df);
    s.norm(a + ".kv_a_layernorm.weight", c.kv_lora_rank);
    s.linear(a + ".kv_b_proj", nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank, df);
    s.linear(a + ".o_proj", H, nh * c.v_head_dim, df);
    if (!c.is_moe_layer(l)) {
      s.linear(p + ".mlp.gate_proj", c.intermediate_size, H, df);
      s.linear(p + ".mlp.up_proj", c.intermediate_size, H, df);
      s.linear(p + ".mlp.down_proj", H, c.intermediate_size, df);
      continue;
    }
    const int64_t I = c.moe_intermediate_size, S = I * c.n_shared_experts;
    s.bf16(p + ".mlp.gate.weight", {c.n_routed_experts, H}, 1.0 / std::sqrt(double(H)));
    s.f32(p + ".mlp.gate.e_score_correction_bias",
          zipf_bias(c.n_routed_experts, o.routing_skew, name_key(o.seed, p + ".zipf")));
    for (int e = 0; e < c.n_routed_experts; e++) {
      const std::string ep = p + ".mlp.experts." + std::to_string(e);
      s.linear(ep + ".gate_proj", I, H, o.expert_format);
      s.linear(ep + ".up_proj", I, H, o.expert_format);
      s.linear(ep + ".down_proj", H, I, o.expert_format);
    }
    s.linear(p + ".mlp.shared_experts.gate_proj", S, H, df);
    s.linear(p + ".mlp.shared_experts.up_proj", S, H, df);
    s.linear(p + ".mlp.shared_experts.down_proj", H, S, df);
  }
  s.norm("model.norm.weight", H);
  s.linear("lm_head", c.vocab_size, H, df);
  return w.write(o.out_dir, model_config_to_json(c), progress);
}

}  // namespace

Status write_synthetic(const SynthOptions& opts, const ProgressFn& progress) {
  try {
    return synth(opts, progress);
  } catch (const std::exception& e) {
    return Status::Error("synth: " + std::string(e.what()));
  }
}

}  // namespace kk

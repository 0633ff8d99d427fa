// save.cpp — save_checkpoint: a loaded (possibly converted) model back to disk in Kimi-K2-Thinking's
// layout: Q4 tensors as compressed-tensors pack-quantized INT4, block-FP8 tensors as e4m3 +
// weight_scale_inv, everything else as stored. Reading it back gives bit-identical tensors.
#include <cstring>
#include <set>

#include "loader/checkpoint_writer.h"
#include "loader/int4.h"
#include "loader/loader.h"

namespace kk {
namespace {

// compressed-tensors' ignore list as Kimi-K2-Thinking ships it: only the routed experts are INT4.
const std::vector<std::string> kK2Ignore = {"lm_head", "re:.*self_attn.*", "re:.*shared_experts.*",
                                            "re:.*mlp\\.(gate|up|down)_proj.*"};

const char* st_dtype(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F8_E4M3: return "F8_E4M3";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::Q4:
    case DType::Q4X16: break;  // Q4 is written as compressed-tensors; Q4X16 is never saved
  }
  return "";
}

int64_t tiles(int64_t n) { return (n + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK; }

SafetensorsWriter::FillFn copy_from(const void* src) {
  const uint8_t* p = static_cast<const uint8_t*>(src);
  return [p](uint8_t* d, size_t off, size_t len) { std::memcpy(d, p + off, len); };
}

class Saver {
 public:
  CheckpointWriter out;
  std::vector<std::string> plain_modules;  // Linear modules not stored as INT4 (the ignore list)
  bool any_q4 = false, any_fp8 = false, q4_outside_experts = false, plain_experts = false;

  // One [rows, cols] Linear whose data starts at `data` (a slice of a stacked tensor for experts).
  Status linear(const std::string& module, const Tensor& t, const void* data, const float* scale_inv,
                int64_t rows, int64_t cols, bool expert) {
    if (t.type == DType::Q4) {
      any_q4 = true;
      if (!expert) q4_outside_experts = true;
      const block_q4* blocks = static_cast<const block_q4*>(data);
      const int64_t nb = cols / KK_Q4_GROUP, words = cols / kInt4PerWord;
      out.add(module + ".weight_packed", "I32", {rows, words}, [blocks, nb, words](uint8_t* d, size_t off, size_t len) {
        for (size_t i = off / 4; i < (off + len) / 4; i++) {
          uint32_t w = q4_packed_word(blocks + int64_t(i / words) * nb, int64_t(i % words));
          std::memcpy(d + (i * 4 - off), &w, 4);
        }
      });
      out.add(module + ".weight_scale", "BF16", {rows, nb}, [blocks](uint8_t* d, size_t off, size_t len) {
        for (size_t i = off / 2; i < (off + len) / 2; i++) std::memcpy(d + (i * 2 - off), &blocks[i].scale_bf16, 2);
      });
      auto shape = std::make_shared<std::vector<int32_t>>(std::vector<int32_t>{int32_t(rows), int32_t(cols)});
      out.add(module + ".weight_shape", "I32", {2}, [shape](uint8_t* d, size_t off, size_t len) {
        std::memcpy(d, reinterpret_cast<const uint8_t*>(shape->data()) + off, len);
      });
      return Status::OK();
    }
    if (expert) plain_experts = true;
    plain_modules.push_back(module);
    const char* dt = st_dtype(t.type);
    if (!*dt) return Status::Error(module + ": cannot save dtype " + std::string(dtype_name(t.type)));
    out.add(module + ".weight", dt, {rows, cols}, copy_from(data));
    if (t.type == DType::F8_E4M3) {
      if (!scale_inv) return Status::Error(t.name + ": F8_E4M3 tensor without fp8_scale_inv");
      any_fp8 = true;
      out.add(module + ".weight_scale_inv", "F32", {tiles(rows), tiles(cols)}, copy_from(scale_inv));
    }
    return Status::OK();
  }

  Status linear2d(const std::string& module, const Tensor& t) {
    if (t.empty()) return Status::Error(module + ": tensor missing in the model being saved");
    return linear(module, t, t.data, t.fp8_scale_inv, t.shape[0], t.shape[1], false);
  }

  Status stacked(const std::string& prefix, const char* proj, const Tensor& t) {
    if (t.empty() || t.shape.size() != 3) return Status::Error(prefix + ".*." + proj + ": stacked experts missing");
    const int64_t E = t.shape[0], O = t.shape[1], I = t.shape[2];
    const size_t per = t.nbytes() / size_t(E);
    for (int64_t e = 0; e < E; e++) {
      const float* s = t.fp8_scale_inv ? t.fp8_scale_inv + e * tiles(O) * tiles(I) : nullptr;
      KK_RETURN_IF_ERROR(linear(prefix + "." + std::to_string(e) + "." + proj, t,
                                static_cast<const uint8_t*>(t.data) + per * e, s, O, I, true));
    }
    return Status::OK();
  }

  // Norms and biases: bf16 when every value survives the round trip (K2 stores bf16), else f32.
  void vector(const std::string& name, const Tensor& t, bool allow_bf16) {
    const float* v = static_cast<const float*>(t.data);
    const int64_t n = t.numel();
    bool bf16_ok = allow_bf16;
    for (int64_t i = 0; bf16_ok && i < n; i++) bf16_ok = bf16_to_f32(f32_to_bf16(v[i])) == v[i];
    if (bf16_ok)
      out.add(name, "BF16", {n}, [v](uint8_t* d, size_t off, size_t len) {
        for (size_t i = off / 2; i < (off + len) / 2; i++) { uint16_t h = f32_to_bf16(v[i]); std::memcpy(d + (i * 2 - off), &h, 2); }
      });
    else
      out.add(name, "F32", {n}, copy_from(v));
  }
};

Status save(const ModelWeights& w, const std::string& dir) {
  const ModelConfig& c = w.config;
  Saver s;
  s.out.add("model.embed_tokens.weight", st_dtype(w.embed_tokens.type), w.embed_tokens.shape, copy_from(w.embed_tokens.data));
  if (!*st_dtype(w.embed_tokens.type)) return Status::Error("model.embed_tokens.weight: cannot save its dtype");
  for (size_t l = 0; l < w.layers.size(); l++) {
    const LayerWeights& L = w.layers[l];
    const std::string p = "model.layers." + std::to_string(l), a = p + ".self_attn";
    s.vector(p + ".input_layernorm.weight", L.input_layernorm, true);
    s.vector(p + ".post_attention_layernorm.weight", L.post_attention_layernorm, true);
    if (c.q_lora_rank > 0) {
      KK_RETURN_IF_ERROR(s.linear2d(a + ".q_a_proj", L.attn.q_a_proj));
      s.vector(a + ".q_a_layernorm.weight", L.attn.q_a_norm, true);
      KK_RETURN_IF_ERROR(s.linear2d(a + ".q_b_proj", L.attn.q_b_proj));
    } else {
      KK_RETURN_IF_ERROR(s.linear2d(a + ".q_proj", L.attn.q_proj));
    }
    KK_RETURN_IF_ERROR(s.linear2d(a + ".kv_a_proj_with_mqa", L.attn.kv_a_proj_with_mqa));
    s.vector(a + ".kv_a_layernorm.weight", L.attn.kv_a_norm, true);
    KK_RETURN_IF_ERROR(s.linear2d(a + ".kv_b_proj", L.attn.kv_b_proj));
    KK_RETURN_IF_ERROR(s.linear2d(a + ".o_proj", L.attn.o_proj));
    if (!L.is_moe) {
      KK_RETURN_IF_ERROR(s.linear2d(p + ".mlp.gate_proj", L.mlp.gate_proj));
      KK_RETURN_IF_ERROR(s.linear2d(p + ".mlp.up_proj", L.mlp.up_proj));
      KK_RETURN_IF_ERROR(s.linear2d(p + ".mlp.down_proj", L.mlp.down_proj));
      continue;
    }
    const Tensor& r = L.moe.router;
    s.out.add(p + ".mlp.gate.weight", st_dtype(r.type), r.shape, copy_from(r.data));
    if (!L.moe.router_bias.empty()) s.vector(p + ".mlp.gate.e_score_correction_bias", L.moe.router_bias, false);
    KK_RETURN_IF_ERROR(s.stacked(p + ".mlp.experts", "gate_proj", L.moe.gate_exps));
    KK_RETURN_IF_ERROR(s.stacked(p + ".mlp.experts", "up_proj", L.moe.up_exps));
    KK_RETURN_IF_ERROR(s.stacked(p + ".mlp.experts", "down_proj", L.moe.down_exps));
    if (c.n_shared_experts > 0) {
      KK_RETURN_IF_ERROR(s.linear2d(p + ".mlp.shared_experts.gate_proj", L.moe.shared.gate_proj));
      KK_RETURN_IF_ERROR(s.linear2d(p + ".mlp.shared_experts.up_proj", L.moe.shared.up_proj));
      KK_RETURN_IF_ERROR(s.linear2d(p + ".mlp.shared_experts.down_proj", L.moe.shared.down_proj));
    }
  }
  s.vector("model.norm.weight", w.norm, true);
  if (!c.tie_word_embeddings) KK_RETURN_IF_ERROR(s.linear2d("lm_head", w.lm_head));

  ModelConfig out_cfg = c;
  out_cfg.quant = QuantConfig();
  if (s.any_q4) {
    out_cfg.quant.method = "compressed-tensors";
    out_cfg.quant.format = "pack-quantized";
    // Exactly K2-Thinking's split uses its own list; anything else names every plain module.
    out_cfg.quant.ignore = (!s.q4_outside_experts && !s.plain_experts) ? kK2Ignore : s.plain_modules;
  } else if (s.any_fp8) {
    out_cfg.quant.method = "fp8";
    out_cfg.quant.format = "e4m3";
    out_cfg.quant.weight_block_size = {KK_FP8_BLOCK, KK_FP8_BLOCK};
  }
  return s.out.write(dir, model_config_to_json(out_cfg), nullptr);
}

}  // namespace

Status save_checkpoint(const ModelWeights& w, const std::string& dir) {
  try {
    return save(w, dir);
  } catch (const std::exception& e) {
    return Status::Error(dir + ": cannot save: " + e.what());
  }
}

}  // namespace kk

// synthetic_weights.cpp — random weights with the right shapes, types and scales (weights ~ 1/√in
// so activations stay O(1) through the layers, as in a trained model).
#include "harness/synthetic_weights.h"
#include <sys/mman.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include "model/presets.h"

namespace kk {
namespace {

// Headroom left for the OS, the KV cache and the other processes when sizing the expert count.
constexpr int64_t kRamHeadroomBytes = 3ll << 30;

uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Anonymous mapping with transparent huge pages requested: fewer page faults while filling and
// fewer TLB misses while streaming the weights (THP is often in "madvise" mode).
Tensor alloc(const std::string& name, DType t, std::vector<int64_t> shape) {
  Tensor x;
  x.name = name;
  x.type = t;
  x.shape = std::move(shape);
  const size_t bytes = std::max<size_t>(x.nbytes(), 1);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return x;  // data stays null: the caller reports out of memory
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);
#endif
  x.data = p;
  x.owner = std::shared_ptr<void>(p, [bytes](void* q) { munmap(q, bytes); });
  return x;
}

// Fills a tensor in parallel, 1 MiB chunks, each chunk its own random stream.
void fill(ThreadPool& pool, Tensor& t, uint64_t seed) {
  const int64_t cols = t.cols();
  const float a = std::sqrt(3.f / float(cols));  // uniform(-a, a) has std 1/√cols
  const size_t bytes = t.nbytes();
  const size_t chunk = 1 << 20;
  const int64_t n_chunks = int64_t((bytes + chunk - 1) / chunk);
  uint8_t* base = static_cast<uint8_t*>(t.data);
  pool.parallel_for(n_chunks, 1, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      uint64_t s = mix(seed ^ (uint64_t(c) << 20));
      const size_t b0 = size_t(c) * chunk, b1 = std::min(bytes, b0 + chunk);
      if (t.type == DType::BF16) {
        uint16_t* p = reinterpret_cast<uint16_t*>(base + b0);
        for (size_t i = 0; i < (b1 - b0) / 2; ++i) {
          s = s * 6364136223846793005ull + 1442695040888963407ull;
          const float u = float(uint32_t(s >> 40)) * (1.f / 16777216.f);  // [0, 1)
          p[i] = f32_to_bf16((2.f * u - 1.f) * a);
        }
      } else if (t.type == DType::Q4) {
        // Random nibbles; the scale makes q·scale (q uniform in [-8, 7], std ≈ 4.6) ~ 1/√cols.
        const uint16_t scale = f32_to_bf16(1.f / (4.6f * std::sqrt(float(cols))));
        // A block belongs to the chunk it starts in (1 MiB is not a multiple of 18 bytes).
        const size_t bs = sizeof(block_q4);
        for (size_t off = (b0 + bs - 1) / bs * bs; off < b1; off += bs) {
          block_q4* blk = reinterpret_cast<block_q4*>(base + off);
          blk->scale_bf16 = scale;
          for (int j = 0; j < KK_Q4_GROUP / 2; j += 8) {  // 8 random bytes per draw
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            const uint64_t r = mix(s);
            std::memcpy(&blk->qs[j], &r, 8);
          }
        }
      } else if (t.type == DType::F32) {
        float* p = reinterpret_cast<float*>(base + b0);
        for (size_t i = 0; i < (b1 - b0) / 4; ++i) p[i] = 1.f;  // norm weights
      }
    }
  });
}

}  // namespace

Status parse_synthetic_spec(const std::string& s, SyntheticSpec* out) {
  std::stringstream ss(s);
  std::string part;
  bool first = true;
  while (std::getline(ss, part, ':')) {
    if (first) {
      first = false;
      if (part != "k2" && part != "tiny") return Status::Error("synthetic preset '" + part + "' (k2 | tiny)");
      out->preset = part;
      continue;
    }
    const auto eq = part.find('=');
    if (eq == std::string::npos) return Status::Error("synthetic option '" + part + "' (expected key=value)");
    const std::string k = part.substr(0, eq);
    const int v = std::atoi(part.c_str() + eq + 1);
    if (v <= 0) return Status::Error("synthetic option '" + part + "': must be a positive number");
    if (k == "layers") out->layers = v;
    else if (k == "experts") out->experts = v;
    else if (k == "vocab") out->vocab = v;
    else return Status::Error("synthetic option '" + k + "' (layers | experts | vocab)");
  }
  return Status::OK();
}

ModelConfig synthetic_config(const SyntheticSpec& spec) {
  ModelConfig c;
  // parse_synthetic_spec admits only the two presets; anything else builds the tiny one.
  kimi_k2_preset(spec.preset == "k2" ? "k2" : "tiny", &c);
  c.quant.method = "compressed-tensors";
  c.quant.format = "pack-quantized";
  if (spec.layers > 0) c.num_hidden_layers = spec.layers;
  if (spec.experts > 0) c.n_routed_experts = spec.experts;
  if (spec.vocab > 0) c.vocab_size = spec.vocab;
  c.tie_word_embeddings = spec.tie_embeddings;
  return c;
}

int64_t synthetic_bytes(const ModelConfig& c, bool tied) {
  const int64_t D = c.hidden_size, H = c.num_attention_heads, R = c.kv_lora_rank, P = c.qk_rope_head_dim;
  const int64_t qk = c.qk_nope_head_dim + P;
  int64_t attn = (c.q_lora_rank > 0 ? D * c.q_lora_rank + int64_t(c.q_lora_rank) * H * qk : D * H * qk) +
                 D * (R + P) + R * H * (c.qk_nope_head_dim + c.v_head_dim) + H * c.v_head_dim * D;
  attn *= 2;
  const int64_t dense = 3 * D * c.intermediate_size * 2;
  const int64_t expert = 3 * D * c.moe_intermediate_size / KK_Q4_GROUP * int64_t(sizeof(block_q4));
  const int64_t moe = c.n_routed_experts * expert + int64_t(c.n_shared_experts) * 3 * D * c.moe_intermediate_size * 2 +
                      c.n_routed_experts * D * 2;
  int64_t total = int64_t(c.vocab_size) * D * 2 * (tied ? 1 : 2);
  for (int l = 0; l < c.num_hidden_layers; ++l) total += attn + (c.is_moe_layer(l) ? moe : dense);
  return total;
}

Status build_synthetic_weights(const SyntheticSpec& spec_in, ThreadPool& pool, ModelWeights* out,
                               std::string* note) {
  SyntheticSpec spec = spec_in;
  ModelConfig c = synthetic_config(spec);
  std::string why;
  if (spec.tie_embeddings) why += "lm_head tied to the embedding (one vocab x hidden matrix in RAM; decode reads the same bytes); ";
  if (spec.experts < 0) {
    // Shrink the routed expert count only if this machine cannot hold them all: a decode step
    // reads top_k experts whatever the count, so tokens/s does not depend on it.
    long long avail_kb = 0;
    if (FILE* f = std::fopen("/proc/meminfo", "r")) {
      char line[256];
      while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "MemAvailable: %lld kB", &avail_kb) == 1) break;
      std::fclose(f);
    }
    const int64_t avail = int64_t(avail_kb) * 1024 - kRamHeadroomBytes;
    const int full = c.n_routed_experts;
    while (avail > 0 && synthetic_bytes(c, spec.tie_embeddings) > avail && c.n_routed_experts > 4 * c.num_experts_per_tok)
      c.n_routed_experts -= c.num_experts_per_tok;
    if (c.n_routed_experts != full)
      why += "routed experts per MoE layer cut from " + std::to_string(full) + " to " +
             std::to_string(c.n_routed_experts) + " to fit in RAM (decode reads top-" +
             std::to_string(c.num_experts_per_tok) + " either way); ";
  }
  if (spec.vocab > 0) why += "vocab set to " + std::to_string(c.vocab_size) + "; ";
  if (note) *note = why;
  return build_random_weights(c, pool, spec.seed, out);
}

Status build_random_weights(const ModelConfig& c, ThreadPool& pool, uint64_t seed, ModelWeights* out) {
  ModelWeights& w = *out;
  w = ModelWeights();
  w.config = c;
  const int64_t D = c.hidden_size, H = c.num_attention_heads, R = c.kv_lora_rank, P = c.qk_rope_head_dim;
  const int64_t qk = c.qk_nope_head_dim + P, E = c.n_routed_experts, I = c.moe_intermediate_size;
  auto make = [&](const std::string& name, DType t, std::vector<int64_t> shape) -> Tensor {
    Tensor x = alloc(name, t, std::move(shape));
    if (x.data) fill(pool, x, mix(++seed));
    return x;
  };
  w.embed_tokens = make("model.embed_tokens.weight", DType::BF16, {c.vocab_size, D});
  w.lm_head = c.tie_word_embeddings ? w.embed_tokens : make("lm_head.weight", DType::BF16, {c.vocab_size, D});
  w.norm = make("model.norm.weight", DType::F32, {D});
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.input_layernorm = make(p + "input_layernorm.weight", DType::F32, {D});
    lw.post_attention_layernorm = make(p + "post_attention_layernorm.weight", DType::F32, {D});
    AttentionWeights& a = lw.attn;
    if (c.q_lora_rank > 0) {
      a.q_a_proj = make(p + "self_attn.q_a_proj.weight", DType::BF16, {c.q_lora_rank, D});
      a.q_a_norm = make(p + "self_attn.q_a_layernorm.weight", DType::F32, {c.q_lora_rank});
      a.q_b_proj = make(p + "self_attn.q_b_proj.weight", DType::BF16, {H * qk, c.q_lora_rank});
    } else {
      a.q_proj = make(p + "self_attn.q_proj.weight", DType::BF16, {H * qk, D});
    }
    a.kv_a_proj_with_mqa = make(p + "self_attn.kv_a_proj_with_mqa.weight", DType::BF16, {R + P, D});
    a.kv_a_norm = make(p + "self_attn.kv_a_layernorm.weight", DType::F32, {R});
    a.kv_b_proj = make(p + "self_attn.kv_b_proj.weight", DType::BF16, {H * (c.qk_nope_head_dim + c.v_head_dim), R});
    a.o_proj = make(p + "self_attn.o_proj.weight", DType::BF16, {D, H * c.v_head_dim});
    lw.is_moe = c.is_moe_layer(l);
    if (!lw.is_moe) {
      lw.mlp.gate_proj = make(p + "mlp.gate_proj.weight", DType::BF16, {c.intermediate_size, D});
      lw.mlp.up_proj = make(p + "mlp.up_proj.weight", DType::BF16, {c.intermediate_size, D});
      lw.mlp.down_proj = make(p + "mlp.down_proj.weight", DType::BF16, {D, c.intermediate_size});
    } else {
      MoeWeights& m = lw.moe;
      m.router = make(p + "mlp.gate.weight", DType::BF16, {E, D});
      m.router_bias = alloc(p + "mlp.gate.e_score_correction_bias", DType::F32, {E});
      if (m.router_bias.data) std::memset(m.router_bias.data, 0, m.router_bias.nbytes());
      m.gate_exps = make(p + "mlp.experts.gate_proj", DType::Q4, {E, I, D});
      m.up_exps = make(p + "mlp.experts.up_proj", DType::Q4, {E, I, D});
      m.down_exps = make(p + "mlp.experts.down_proj", DType::Q4, {E, D, I});
      const int64_t S = I * c.n_shared_experts;
      m.shared.gate_proj = make(p + "mlp.shared_experts.gate_proj.weight", DType::BF16, {S, D});
      m.shared.up_proj = make(p + "mlp.shared_experts.up_proj.weight", DType::BF16, {S, D});
      m.shared.down_proj = make(p + "mlp.shared_experts.down_proj.weight", DType::BF16, {D, S});
      for (Tensor* t : {&m.router, &m.router_bias, &m.gate_exps, &m.up_exps, &m.down_exps})
        if (!t->data) return Status::Error("synthetic model: out of memory allocating " + t->name);
    }
    w.layers.push_back(std::move(lw));
  }
  if (!w.embed_tokens.data || !w.lm_head.data) return Status::Error("synthetic model: out of memory allocating the embedding");
  return Status::OK();
}

}  // namespace kk

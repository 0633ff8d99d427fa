// k25_package.h — test helper: repackages a plain K2 checkpoint (tiny-k2) the way Kimi K2.5 / K2.6
// ship, so the loader's handling of the wrapper is tested on weights whose outputs are known:
//   - config.json: architectures [KimiK25ForConditionalGeneration], model_type kimi_k25,
//     media_placeholder_token_id 163605, the text model under text_config (its own model_type
//     set to `text_model_type`), a vision_config, and quantization_config at the top level
//     (or inside text_config when `quant_in_text`);
//   - every tensor renamed language_model.<name>;
//   - dummy bf16 vision_tower.* and mm_projector.* tensors the text backbone must skip.
// `edit_text_config` may change text_config afterwards (e.g. beta_fast 32). The weights are
// copied byte for byte, so only the packaging differs from the source.
// Facts: vLLM / SGLang KimiK25ForConditionalGeneration (weight prefixes language_model.,
// vision_tower., mm_projector.), the K2.5 config.json as published (see docs/kimi-k25.md).
#pragma once
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loader/checkpoint_writer.h"
#include "loader/safetensors.h"

namespace k25_test {

using json = nlohmann::json;

struct PackageOptions {
  std::string text_model_type = "kimi_k2";
  bool quant_in_text = false;
  std::function<void(json&)> edit_text_config;
};

inline std::string read_text(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Returns "" on success, else what went wrong.
inline std::string package_as_k25(const std::string& src, const std::string& dst, const PackageOptions& o = {}) {
  json text = json::parse(read_text(src + "/config.json"), nullptr, false);
  if (text.is_discarded()) return src + "/config.json: not JSON";
  json idx = json::parse(read_text(src + "/model.safetensors.index.json"), nullptr, false);
  if (idx.is_discarded()) return src + ": no index";
  json quant = text["quantization_config"];
  text.erase("quantization_config");
  // The wrapper's ignore list names the full model's modules (language_model.…, vision_tower.…):
  // matched against the text backbone's own names it keeps nothing, so a loader that decided
  // INT4 by it would expect attention and lm_head packed. The loader must go by weight_packed.
  json ignore = json::array();
  for (const auto& e : quant["ignore"]) {
    const std::string s = e.get<std::string>();
    ignore.push_back(s.rfind("re:", 0) == 0 ? "re:language_model\\." + s.substr(3) : "language_model." + s);
  }
  ignore.push_back("re:vision_tower.*");
  ignore.push_back("re:mm_projector.*");
  quant["ignore"] = ignore;
  text["model_type"] = o.text_model_type;
  if (o.quant_in_text) text["quantization_config"] = quant;
  if (o.edit_text_config) o.edit_text_config(text);
  json top = {{"architectures", {"KimiK25ForConditionalGeneration"}},
              {"model_type", "kimi_k25"},
              {"media_placeholder_token_id", 163605},
              {"text_config", text},
              {"vision_config", {{"patch_size", 14}, {"hidden_size", 8}}}};
  if (!o.quant_in_text) top["quantization_config"] = quant;

  kk::CheckpointWriter w;
  std::map<std::string, std::shared_ptr<kk::SafetensorsFile>> files;
  for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
    const std::string shard = it.value().get<std::string>();
    if (!files.count(shard)) {
      std::shared_ptr<kk::SafetensorsFile> f;
      kk::Status st = kk::SafetensorsFile::open(src + "/" + shard, &f);
      if (!st.ok()) return st.message();
      files[shard] = f;
    }
    const kk::StTensor* t = files[shard]->find(it.key());
    if (!t) return it.key() + " missing from " + shard;
    const uint8_t* data = t->data;
    w.add("language_model." + it.key(), t->dtype, t->shape,
          [data](uint8_t* d, size_t off, size_t len) { std::memcpy(d, data + off, len); });
  }
  // Dummy multimodal parts (bf16, as K2.5 ships them): 0x3f80 = 1.0.
  auto ones = [](uint8_t* d, size_t, size_t len) {
    for (size_t i = 0; i + 1 < len; i += 2) { d[i] = 0x80; d[i + 1] = 0x3f; }
  };
  w.add("vision_tower.patch_embed.proj.weight", "BF16", {8, 3, 14, 14}, ones);
  w.add("mm_projector.proj.0.weight", "BF16", {16, 32}, ones);
  kk::Status st = w.write(dst, top.dump(2), nullptr);
  if (!st.ok()) return st.message();
  for (const char* extra : {"tiktoken.model", "tokenizer_config.json", "generation_config.json"})
    if (std::filesystem::exists(src + "/" + extra))
      std::filesystem::copy_file(src + "/" + extra, dst + "/" + extra, std::filesystem::copy_options::overwrite_existing);
  return "";
}

}  // namespace k25_test

// checkpoint.h — an opened HF checkpoint directory: parsed config.json plus every shard mapped and
// its header validated, with tensor lookup by name. Used by load_checkpoint.
#pragma once
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>
#include "karakoram/types.h"
#include "loader/safetensors.h"
#include "model/config.h"

namespace kk {

struct TensorRef {
  const SafetensorsFile* file = nullptr;
  const StTensor* t = nullptr;
  bool valid() const { return t != nullptr; }
};

// quantization_config.ignore: exact module names or "re:<regex>" matched from the start of the
// name (Python re.match, as compressed-tensors does).
class IgnoreList {
 public:
  Status init(const std::vector<std::string>& entries, const std::string& config_path);
  bool ignored(const std::string& module) const;
 private:
  std::vector<std::string> exact_;
  std::vector<std::regex> patterns_;
};

class Checkpoint {
 public:
  // Reads config.json, then model.safetensors.index.json + its shards, or model.safetensors.
  Status open(const std::string& dir, const ProgressFn& progress);
  const ModelConfig& config() const { return config_; }
  const std::string& config_path() const { return config_path_; }
  // True when the module's Linear weight is stored pack-quantized. Plain checkpoints: compressed-
  // tensors and not on the ignore list. Wrapped ones (K2.5): by the presence of weight_packed,
  // since their ignore list is written for the full model's names, not the text backbone's.
  bool int4_module(const std::string& module) const;
  // What the text backbone's tensor names carry in front in the shards ("" or "language_model.").
  const std::string& tensor_prefix() const { return prefix_; }

  // Tensor names are the text model's (model.layers.0....); the prefix is added here.
  bool has(const std::string& name) const;
  // Looks a tensor up; the error names the file that should hold it and the tensor.
  Status get(const std::string& name, TensorRef* out) const;
  // get() + dtype in `dtypes` + exact shape; errors name the file and the tensor.
  Status get_checked(const std::string& name, const std::vector<std::string>& dtypes,
                     const std::vector<int64_t>& shape, TensorRef* out) const;
  std::vector<std::shared_ptr<void>> mappings() const;

 private:
  bool has_stored(const std::string& stored_name) const;
  std::string dir_, config_path_, index_path_, prefix_;
  ModelConfig config_;
  IgnoreList ignore_;
  std::map<std::string, std::shared_ptr<SafetensorsFile>> files_;  // by file name
  std::map<std::string, std::string> weight_map_;                  // empty for a single file
};

std::string shape_str(const std::vector<int64_t>& s);
Status tensor_error(const TensorRef& r, const std::string& what);

}  // namespace kk

// checkpoint.cpp — see checkpoint.h.
#include "loader/checkpoint.h"

#include <sys/stat.h>
#include <algorithm>
#include <fstream>
#include <sstream>

namespace kk {

// The one tensor every checkpoint of the family has, by the text model's name.
static const char* const kEmbedTensor = "model.embed_tokens.weight";

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); i++) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Status tensor_error(const TensorRef& r, const std::string& what) {
  return Status::Error(r.file->path() + ": tensor '" + r.t->name + "' " + what);
}

Status IgnoreList::init(const std::vector<std::string>& entries, const std::string& config_path) {
  exact_.clear();
  patterns_.clear();
  for (const auto& e : entries) {
    if (e.rfind("re:", 0) == 0) {
      try {
        patterns_.emplace_back(e.substr(3), std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::exception&) {
        return Status::Error(config_path + ": field 'quantization_config.ignore' entry '" + e + "' is not a valid regex");
      }
    } else {
      exact_.push_back(e);
    }
  }
  return Status::OK();
}

bool IgnoreList::ignored(const std::string& module) const {
  if (std::find(exact_.begin(), exact_.end(), module) != exact_.end()) return true;
  for (const auto& re : patterns_)
    if (std::regex_search(module, re, std::regex_constants::match_continuous)) return true;
  return false;
}

static bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

Status Checkpoint::open(const std::string& dir, const ProgressFn& progress) {
  dir_ = dir;
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  config_path_ = dir_ + "/config.json";
  std::ifstream in(config_path_, std::ios::binary);
  if (!in) return Status::Error(config_path_ + ": cannot open (is '" + dir + "' a checkpoint directory?)");
  std::stringstream ss;
  ss << in.rdbuf();
  KK_RETURN_IF_ERROR(parse_model_config(ss.str(), config_path_, &config_));
  KK_RETURN_IF_ERROR(ignore_.init(config_.quant.ignore, config_path_));

  std::vector<std::string> shard_names;
  index_path_ = dir_ + "/model.safetensors.index.json";
  if (exists(index_path_)) {
    SafetensorsIndex idx;
    KK_RETURN_IF_ERROR(read_safetensors_index(index_path_, &idx));
    weight_map_ = std::move(idx.weight_map);
    shard_names = idx.shards;
  } else if (exists(dir_ + "/model.safetensors")) {
    index_path_.clear();
    shard_names = {"model.safetensors"};
  } else {
    return Status::Error(dir_ + ": neither model.safetensors.index.json nor model.safetensors exists");
  }
  for (size_t i = 0; i < shard_names.size(); i++) {
    std::shared_ptr<SafetensorsFile> f;
    KK_RETURN_IF_ERROR(SafetensorsFile::open(dir_ + "/" + shard_names[i], &f));
    files_[shard_names[i]] = f;
    if (progress) progress("validate", double(i + 1) / double(shard_names.size()));
  }
  // A wrapped checkpoint keeps its language model under the wrapper's prefix; a text-only
  // extraction of one may not. The embedding, which every model has, tells which.
  prefix_.clear();
  const std::string& p = config_.wrapper.tensor_prefix;
  if (!p.empty() && has_stored(p + kEmbedTensor)) prefix_ = p;
  return Status::OK();
}

bool Checkpoint::int4_module(const std::string& module) const {
  if (config_.quant.method != "compressed-tensors") return false;
  if (config_.wrapper.wrapped()) return has(module + ".weight_packed");
  return !ignore_.ignored(module);
}

bool Checkpoint::has(const std::string& name) const { return has_stored(prefix_ + name); }

bool Checkpoint::has_stored(const std::string& name) const {
  if (!weight_map_.empty()) {
    auto it = weight_map_.find(name);
    return it != weight_map_.end() && files_.at(it->second)->find(name) != nullptr;
  }
  return !files_.empty() && files_.begin()->second->find(name) != nullptr;
}

Status Checkpoint::get(const std::string& text_name, TensorRef* out) const {
  const std::string name = prefix_ + text_name;
  const SafetensorsFile* f = nullptr;
  if (!index_path_.empty()) {
    auto it = weight_map_.find(name);
    if (it == weight_map_.end())
      return Status::Error(index_path_ + ": tensor '" + name + "' is missing from weight_map (the config implies it)");
    f = files_.at(it->second).get();
  } else {
    f = files_.begin()->second.get();
  }
  const StTensor* t = f->find(name);
  if (!t) return Status::Error(f->path() + ": tensor '" + name + "' is missing (the config implies it)");
  out->file = f;
  out->t = t;
  return Status::OK();
}

Status Checkpoint::get_checked(const std::string& name, const std::vector<std::string>& dtypes,
                               const std::vector<int64_t>& shape, TensorRef* out) const {
  KK_RETURN_IF_ERROR(get(name, out));
  if (std::find(dtypes.begin(), dtypes.end(), out->t->dtype) == dtypes.end()) {
    std::string want;
    for (const auto& d : dtypes) want += (want.empty() ? "" : " or ") + d;
    return tensor_error(*out, "has dtype " + out->t->dtype + ", expected " + want);
  }
  if (out->t->shape != shape)
    return tensor_error(*out, "has shape " + shape_str(out->t->shape) + ", config.json implies " + shape_str(shape));
  return Status::OK();
}

std::vector<std::shared_ptr<void>> Checkpoint::mappings() const {
  std::vector<std::shared_ptr<void>> v;
  for (const auto& kv : files_) v.push_back(kv.second->mapping());
  return v;
}

}  // namespace kk

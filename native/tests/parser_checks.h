// parser_checks.h — what the parsers of files from the internet promise for any input: a Status
// back (never a crash, abort or escaping exception), and when they accept, a result that holds.
// One definition for the fuzz targets (native/fuzz/, scripts/fuzz-parsers.sh), which trap on a
// broken promise, and for the regression run of the inputs they found (test_loader_malformed).
#pragma once
#include <sys/stat.h>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "loader/safetensors.h"
#include "model/config.h"

namespace kk_parser_checks {

// Each returns "" when the promise holds, else what broke.

// Any bytes as a safetensors file image: on success every tensor lies inside the image and the
// readers copy it (or refuse with a Status).
inline std::string safetensors_header(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end of the file image.
  std::unique_ptr<uint8_t[]> image(new uint8_t[size ? size : 1]);
  if (size) std::copy(data, data + size, image.get());
  std::shared_ptr<kk::SafetensorsFile> f;
  if (!kk::SafetensorsFile::parse("fuzz.safetensors", image.get(), size, &f).ok()) return "";
  for (const kk::StTensor& t : f->tensors()) {
    if (t.begin > t.end || t.data < image.get() || t.data + t.nbytes() > image.get() + size)
      return "accepted tensor '" + t.name + "' lies outside the file";
    std::vector<float> fv;
    std::vector<int32_t> iv;
    (void)f->read_f32(t.name, &fv);
    (void)f->read_i32(t.name, &iv);
  }
  return "";
}

// Any bytes as config.json: an accepted config survives the round trip through
// model_config_to_json (what save_checkpoint writes) and parses again.
inline std::string config_json(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kk::ModelConfig c;
  if (!kk::parse_model_config(text, "fuzz/config.json", &c).ok()) return "";
  kk::ModelConfig again;
  const kk::Status st = kk::parse_model_config(kk::model_config_to_json(c), "fuzz/written.json", &again);
  return st.ok() ? "" : "accepted config does not read back once written: " + st.message();
}

// Any bytes as model.safetensors.index.json in `dir`: an accepted index names only shards that
// exist in `dir`.
inline std::string safetensors_index(const uint8_t* data, size_t size, const std::string& dir) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kk::SafetensorsIndex idx;
  if (!kk::parse_safetensors_index(text, dir + "/model.safetensors.index.json", &idx).ok()) return "";
  for (const std::string& s : idx.shards) {
    struct stat st;
    if (s.find('/') != std::string::npos || stat((dir + "/" + s).c_str(), &st) != 0)
      return "accepted index names shard '" + s + "' that is not in the folder";
  }
  return "";
}

// The shard names the index seeds use (tiny-k2, demo-k2): a folder holding them as empty files
// lets accepted indexes past the existence check.
inline const std::vector<std::string>& index_shard_names() {
  static const std::vector<std::string> names = {"model-00001-of-00002.safetensors",
                                                 "model-00002-of-00002.safetensors", "model.safetensors"};
  return names;
}

}  // namespace kk_parser_checks

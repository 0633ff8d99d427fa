// checkpoint_writer.cpp — see checkpoint_writer.h.
#include "loader/checkpoint_writer.h"

#include <sys/stat.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>

namespace kk {

void CheckpointWriter::add(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                           SafetensorsWriter::FillFn fill) {
  uint64_t n = 1;
  for (auto d : shape) n *= uint64_t(d);
  entries_.push_back({name, dtype, shape, n * safetensors_dtype_size(dtype), std::move(fill)});
}

static Status make_dirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); i++) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        return Status::Error(cur + ": cannot create directory: " + std::strerror(errno));
    }
    if (i < dir.size()) cur.push_back(dir[i]);
  }
  return Status::OK();
}

Status CheckpointWriter::write(const std::string& dir, const std::string& config_json, const ProgressFn& progress) const {
  KK_RETURN_IF_ERROR(make_dirs(dir));
  {
    std::ofstream o(dir + "/config.json", std::ios::binary);
    o << config_json;
    if (!o) return Status::Error(dir + "/config.json: write failed");
  }
  // Greedy assignment in declaration order, so a layer's tensors stay together.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t cur = 0, total = 0;
  for (size_t i = 0; i < entries_.size(); i++) {
    if (cur > 0 && cur + entries_[i].nbytes > kMaxShardBytes) { shards.emplace_back(); cur = 0; }
    shards.back().push_back(i);
    cur += entries_[i].nbytes;
    total += entries_[i].nbytes;
  }
  auto done = std::make_shared<uint64_t>(0);
  std::map<std::string, std::string> weight_map;
  for (size_t s = 0; s < shards.size(); s++) {
    char fname[64];
    std::snprintf(fname, sizeof fname, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    SafetensorsWriter w;
    w.set_metadata("format", "pt");
    for (size_t i : shards[s]) {
      const Entry& e = entries_[i];
      SafetensorsWriter::FillFn fill = e.fill;
      if (progress)
        fill = [fill, done, total, &progress](uint8_t* d, size_t off, size_t len) {
          fill(d, off, len);
          *done += len;
          progress("weights", total ? double(*done) / double(total) : 1.0);
        };
      w.add(e.name, e.dtype, e.shape, fill);
      weight_map[e.name] = fname;
    }
    KK_RETURN_IF_ERROR(w.write(dir + "/" + fname));
  }
  return write_safetensors_index(dir + "/model.safetensors.index.json", weight_map, total);
}

}  // namespace kk

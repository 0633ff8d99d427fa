// layout_cache.h — the repacked routed experts (block_q4x16), written once per checkpoint and
// mapped read-only on later loads, so that a second load costs what mapping costs and the OS
// page cache holds the experts once (shared by every process that maps them), not a private
// copy per load.
//
// Layout: <cache dir>/<key>/<tensor name>.q4x16, where the key hashes what the bytes depend on:
// the checkpoint's config.json and *.safetensors (name, size, mtime), the requantize flag and
// kLayoutCacheVersion. Each file is a 4 KiB header (magic, version, shape, data size, a checksum
// of sampled data pages, a checksum of the header) and then the tensor's bytes, page aligned.
// A file whose header, size or sampled pages do not check out is rebuilt, never trusted; a
// cache that cannot be written only costs the next load its speed.
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace kk {

// Bump when block_q4x16 or the file format changes: old files then no longer match.
constexpr uint32_t kLayoutCacheVersion = 1;

// The folder of this checkpoint's cached layouts under cache_dir ("" when the checkpoint's files
// cannot be listed).
std::string layout_cache_folder(const std::string& cache_dir, const std::string& checkpoint_dir, bool requantize);

// Maps `path` read-only as a Q4X16 tensor of `shape` named `name` when its header, size and
// sampled pages check out; `mapping` keeps the map alive. False (and *why set) otherwise.
bool layout_cache_map(const std::string& path, const std::string& name, const std::vector<int64_t>& shape,
                      Tensor* out, std::shared_ptr<void>* mapping, std::string* why);

// Writes t (Q4X16) to path atomically (a temporary file renamed into place).
Status layout_cache_write(const std::string& path, const Tensor& t);

}  // namespace kk

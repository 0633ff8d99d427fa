// safetensors.h — memory-mapped, fully validated reader and a streaming writer for the
// safetensors format (8-byte little-endian header length, JSON header, raw tensor bytes).
// Every error names the file and, where there is one, the tensor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include "core/status.h"

namespace kk {

// The header must fit in memory and be parsed; the format itself caps it at 100 MB.
constexpr uint64_t kSafetensorsMaxHeaderBytes = 100ull << 20;

// Element size of a safetensors dtype string ("F32", "BF16", "I32", "F8_E4M3", ...); 0 if unknown.
size_t safetensors_dtype_size(const std::string& dtype);

struct StTensor {
  std::string name;
  std::string dtype;             // as written in the header
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;   // data_offsets, relative to the data area
  const uint8_t* data = nullptr; // into the mapping; may be unaligned for corrupt files
  size_t nbytes() const { return size_t(end - begin); }
  int64_t numel() const { int64_t n = 1; for (auto d : shape) n *= d; return n; }
};

class SafetensorsFile {
 public:
  // Maps `path` read-only and validates the header: size >= 8, header length inside the file
  // and <= kSafetensorsMaxHeaderBytes, header a JSON object, known dtypes, non-negative shapes,
  // data_offsets inside the data area, sizes = numel * dtype size, no two tensors overlapping.
  static Status open(const std::string& path, std::shared_ptr<SafetensorsFile>* out);
  // The same validation over a file image already in memory (`path` only names it in errors);
  // the tensors point into `bytes`, which must outlive the result. What open() does after mmap,
  // and what the parser fuzzer (native/fuzz/) drives.
  static Status parse(const std::string& path, const uint8_t* bytes, uint64_t size,
                      std::shared_ptr<SafetensorsFile>* out);
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  const std::vector<StTensor>& tensors() const { return tensors_; }  // header order
  const StTensor* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Tells the kernel a tensor's pages are no longer needed (after it was converted into owned
  // memory), so they leave the resident set; a later read simply faults them back in from the file.
  void release(const StTensor& t) const;
  // Keeps the mapping alive for as long as any view into it is used.
  std::shared_ptr<void> mapping() const { return mapping_; }

  // Convenience copies (for references and small tensors). read_f32 accepts F32, F16 and BF16;
  // read_i32 accepts I32 (and I64 values that fit). Errors name the file and the tensor.
  Status read_f32(const std::string& name, std::vector<float>* out,
                  std::vector<int64_t>* shape = nullptr) const;
  Status read_i32(const std::string& name, std::vector<int32_t>* out,
                  std::vector<int64_t>* shape = nullptr) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  std::vector<StTensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::shared_ptr<void> mapping_;
};

// model.safetensors.index.json: tensor name -> shard file name (relative to the index's folder).
struct SafetensorsIndex {
  std::map<std::string, std::string> weight_map;
  std::vector<std::string> shards;  // distinct shard names, sorted
};
// Parses the index and checks that every shard it names exists next to it.
Status read_safetensors_index(const std::string& path, SafetensorsIndex* out);
// The same for index text already read; shards are looked for in `path`'s folder.
Status parse_safetensors_index(const std::string& json_text, const std::string& path, SafetensorsIndex* out);

// Streaming writer: declare every tensor first (the header needs all sizes), then write() emits
// the header and asks each tensor's `fill` for its bytes chunk by chunk, so a multi-GB file never
// sits in memory. fill(dst, offset, len) writes bytes [offset, offset+len) of the tensor to dst.
class SafetensorsWriter {
 public:
  using FillFn = std::function<void(uint8_t* dst, size_t offset, size_t len)>;
  void add(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
           FillFn fill);
  // Copies nothing: `data` must stay valid until write() returns.
  void add_bytes(const std::string& name, const std::string& dtype,
                 const std::vector<int64_t>& shape, const void* data);
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  uint64_t data_bytes() const;  // sum of tensor sizes so far
  size_t size() const { return entries_.size(); }
  const std::vector<std::string> names() const;
  Status write(const std::string& path) const;

 private:
  struct Entry { std::string name, dtype; std::vector<int64_t> shape; uint64_t nbytes; FillFn fill; };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Writes model.safetensors.index.json for the given name -> shard map.
Status write_safetensors_index(const std::string& path,
                               const std::map<std::string, std::string>& weight_map,
                               uint64_t total_size);

}  // namespace kk

// checkpoint_writer.h — writes an HF checkpoint directory: config.json, shards of at most
// kMaxShardBytes named model-0000i-of-0000N.safetensors, and model.safetensors.index.json.
// Tensors are declared with fill functions and streamed, so nothing is held in memory twice.
// Used by save_checkpoint and write_synthetic.
#pragma once
#include <string>
#include <vector>
#include "karakoram/types.h"
#include "loader/safetensors.h"

namespace kk {

// Kimi ships shards of a few GB; staying under 4 GB keeps every shard mappable on 32-bit-offset tools.
constexpr uint64_t kMaxShardBytes = 4000000000ull;

class CheckpointWriter {
 public:
  void add(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
           SafetensorsWriter::FillFn fill);
  // Creates `dir` if needed and writes everything; progress("weights", bytes done / total).
  Status write(const std::string& dir, const std::string& config_json, const ProgressFn& progress) const;

 private:
  struct Entry { std::string name, dtype; std::vector<int64_t> shape; uint64_t nbytes; SafetensorsWriter::FillFn fill; };
  std::vector<Entry> entries_;
};

}  // namespace kk

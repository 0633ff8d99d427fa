// snapshot.h — KV snapshots on disk: a cached prefix's latent KV blocks in one file, so a
// conversation reopened after a restart starts without reading its prompt again.
// File layout (little-endian), defined here once:
//   SnapshotHeader | int32 tokens[n_tokens] | blocks[n_blocks][n_layers][block_tokens][row bytes]
//   (rows in the header's dtype = KK_KV_*, byte layout of kernels/common/kk_kv.h)
//   | uint64 checksum (FNV-1a 64 of every byte before it)
// with n_blocks = ceil(n_tokens / block_tokens); rows past n_tokens in the last block are zero.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "core/status.h"
#include "engine/kv_pool.h"
#include "model/weights.h"

namespace kk {

constexpr char kSnapshotMagic[8] = {'K', 'K', 'K', 'V', 'S', 'N', 'A', 'P'};
constexpr uint32_t kSnapshotVersion = 1;

struct SnapshotHeader {
  char magic[8];
  uint32_t version, dtype;
  uint64_t fingerprint;  // model_fingerprint() of the model (and mode) that wrote it
  uint32_t n_layers, row, block_tokens, reserved;
  uint64_t n_tokens, tokens_hash;
};
static_assert(sizeof(SnapshotHeader) == 56, "snapshot header layout");

// A 64-bit identity of a model: its config and samples of every weight tensor's bytes, plus the
// compute mode (the cached KV differs between exact and fast).
uint64_t model_fingerprint(const ModelWeights& w, const std::string& mode);
uint64_t fnv1a64(const void* data, size_t n, uint64_t h = 1469598103934665603ull);

// Writes the blocks that hold ids[0..n) (from the pool; the caller holds the pool's lock).
Status write_snapshot(const std::string& path, uint64_t fingerprint, const BlockPool& pool,
                      const int32_t* ids, int64_t n, const std::vector<int32_t>& blocks);
// Reads and checks a snapshot: it must be whole, intact, of this model and a prefix of `prompt`.
// On success *data holds the file and *header / *tokens / *rows point into it.
Status read_snapshot(const std::string& path, uint64_t fingerprint, const BlockPool& pool,
                     const std::vector<int32_t>& prompt, std::vector<char>* data, SnapshotHeader* header);

// Keeps a folder of snapshots (*.kvsnap) under budget_bytes by removing the least recently
// used (oldest modification time; a restore touches its file) first.
Status prune_snapshots(const std::string& dir, int64_t budget_bytes, int64_t* removed);

}  // namespace kk

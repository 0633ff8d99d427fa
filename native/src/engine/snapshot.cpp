// snapshot.cpp — write, check and read KV snapshots; fingerprint; folder budget.
#include "engine/snapshot.h"
#include "core/kv_pages.h"
#include <sys/stat.h>
#include <dirent.h>
#include <utime.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include "model/config.h"

namespace kk {
namespace {
// Bytes of each weight tensor that go into the fingerprint, at its start, middle and end:
// enough to tell checkpoints apart without reading a terabyte.
constexpr size_t kFingerprintSampleBytes = 4096;

uint64_t hash_tensor(const Tensor& t, uint64_t h) {
  const int32_t type = int32_t(t.type);
  h = fnv1a64(&type, sizeof(type), h);
  for (int64_t d : t.shape) h = fnv1a64(&d, sizeof(d), h);
  if (t.empty()) return h;
  const size_t n = t.nbytes(), k = std::min(n, kFingerprintSampleBytes);
  const char* p = static_cast<const char*>(t.data);
  h = fnv1a64(p, k, h);
  h = fnv1a64(p + (n - k) / 2, k, h);
  return fnv1a64(p + n - k, k, h);
}

std::string errno_text() { return std::strerror(errno); }
}  // namespace

uint64_t fnv1a64(const void* data, size_t n, uint64_t h) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) { h ^= p[i]; h *= 1099511628211ull; }
  return h;
}

uint64_t model_fingerprint(const ModelWeights& w, const std::string& mode) {
  const std::string cfg = model_config_to_json(w.config) + "|mode=" + mode;
  uint64_t h = fnv1a64(cfg.data(), cfg.size());
  h = hash_tensor(w.embed_tokens, h);
  h = hash_tensor(w.norm, h);
  h = hash_tensor(w.lm_head, h);
  for (const LayerWeights& l : w.layers)
    for (const Tensor* t : {&l.input_layernorm, &l.post_attention_layernorm, &l.attn.q_a_proj, &l.attn.q_a_norm,
                            &l.attn.q_b_proj, &l.attn.q_proj, &l.attn.kv_a_proj_with_mqa, &l.attn.kv_a_norm,
                            &l.attn.kv_b_proj, &l.attn.o_proj, &l.mlp.gate_proj, &l.mlp.up_proj, &l.mlp.down_proj,
                            &l.moe.router, &l.moe.router_bias, &l.moe.shared.gate_proj, &l.moe.shared.up_proj,
                            &l.moe.shared.down_proj, &l.moe.gate_exps, &l.moe.up_exps, &l.moe.down_exps})
      h = hash_tensor(*t, h);
  return h;
}

Status write_snapshot(const std::string& path, uint64_t fingerprint, const BlockPool& pool,
                      const int32_t* ids, int64_t n, const std::vector<int32_t>& blocks) {
  const int64_t B = pool.block_tokens(), nb = (n + B - 1) / B;
  if (n <= 0 || int64_t(blocks.size()) < nb) return Status::Error("snapshot: nothing cached to save");
  SnapshotHeader h{};
  std::memcpy(h.magic, kSnapshotMagic, sizeof(h.magic));
  h.version = kSnapshotVersion;
  h.dtype = uint32_t(pool.dtype());  // KK_KV_*: the blocks are stored as the pool holds them
  h.fingerprint = fingerprint;
  h.n_layers = uint32_t(pool.n_layers());
  h.row = uint32_t(pool.row());
  h.block_tokens = uint32_t(B);
  h.n_tokens = uint64_t(n);
  h.tokens_hash = fnv1a64(ids, size_t(n) * sizeof(int32_t));
  const size_t block_data = size_t(pool.n_layers()) * size_t(B) * size_t(pool.row_bytes());
  const size_t layer_data = size_t(B) * size_t(pool.row_bytes());
  // Written to a temporary name and renamed, so a crash or a full disk never leaves half a file
  // under the real name.
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::Error("snapshot: cannot write " + tmp + ": " + errno_text());
  uint64_t sum = fnv1a64(&h, sizeof(h));
  bool ok = std::fwrite(&h, sizeof(h), 1, f) == 1;
  sum = fnv1a64(ids, size_t(n) * sizeof(int32_t), sum);
  ok = ok && std::fwrite(ids, sizeof(int32_t), size_t(n), f) == size_t(n);
  std::vector<uint8_t> last;
  for (int64_t b = 0; ok && b < nb; ++b) {
    const uint8_t* src = pool.data(blocks[b]);
    const int64_t rows = std::min(B, n - b * B);
    if (rows < B) {  // rows past the prefix may hold another sequence's tokens: zero them
      last.assign(block_data, 0);
      for (int l = 0; l < pool.n_layers(); ++l)
        std::memcpy(&last[size_t(l) * layer_data], src + size_t(l) * layer_data, size_t(rows) * size_t(pool.row_bytes()));
      src = last.data();
    }
    sum = fnv1a64(src, block_data, sum);
    ok = std::fwrite(src, 1, block_data, f) == block_data;
  }
  ok = ok && std::fwrite(&sum, sizeof(sum), 1, f) == 1;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    std::remove(tmp.c_str());
    return Status::Error("snapshot: writing " + path + " failed: " + why);
  }
  return Status::OK();
}

Status read_snapshot(const std::string& path, uint64_t fingerprint, const BlockPool& pool,
                     const std::vector<int32_t>& prompt, std::vector<char>* data, SnapshotHeader* header) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::Error("snapshot: cannot open " + path + ": " + errno_text());
  // One read of the whole file (its size from fstat): a restore is a read, not a recompute.
  struct stat st {};
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::fclose(f);
    return Status::Error("snapshot: " + path + " is not a regular file");
  }
  try {
    data->resize(size_t(st.st_size));
  } catch (const std::bad_alloc&) {
    std::fclose(f);
    return Status::Error("snapshot: out of memory reading " + path);
  }
  const size_t got = data->empty() ? 0 : std::fread(data->data(), 1, data->size(), f);
  std::fclose(f);
  data->resize(got);
  const std::string name = "snapshot " + path;
  if (data->size() < sizeof(SnapshotHeader) + sizeof(uint64_t))
    return Status::Error(name + " is truncated (" + std::to_string(data->size()) + " bytes)");
  SnapshotHeader h;
  std::memcpy(&h, data->data(), sizeof(h));
  if (std::memcmp(h.magic, kSnapshotMagic, sizeof(h.magic)) != 0) return Status::Error(name + " is not a KV snapshot");
  if (h.version != kSnapshotVersion) return Status::Error(name + " has version " + std::to_string(h.version) +
                                                          " (this engine reads " + std::to_string(kSnapshotVersion) + ")");
  if (h.block_tokens == 0 || h.n_tokens == 0 || h.n_tokens > (uint64_t(1) << 40))
    return Status::Error(name + " has a corrupted header");
  const uint64_t nb = (h.n_tokens + h.block_tokens - 1) / h.block_tokens;
  if ((h.dtype != KK_KV_F32 && h.dtype != KK_KV_BF16 && h.dtype != KK_KV_FP8) || h.row == 0 || h.row > (1u << 20))
    return Status::Error(name + " has a corrupted header");
  const uint64_t block_data = uint64_t(h.n_layers) * h.block_tokens * uint64_t(KK_KV_ROW_BYTES(int(h.dtype), int(h.row)));
  const uint64_t want = sizeof(SnapshotHeader) + h.n_tokens * sizeof(int32_t) + nb * block_data + sizeof(uint64_t);
  if (data->size() < want)
    return Status::Error(name + " is truncated (" + std::to_string(data->size()) + " of " + std::to_string(want) + " bytes)");
  if (data->size() > want) return Status::Error(name + " has " + std::to_string(data->size() - want) + " stray bytes at the end");
  uint64_t stored;
  std::memcpy(&stored, data->data() + want - sizeof(uint64_t), sizeof(stored));
  if (fnv1a64(data->data(), want - sizeof(uint64_t)) != stored)
    return Status::Error(name + " is corrupted (checksum mismatch)");
  if (h.fingerprint != fingerprint)
    return Status::Error(name + " was saved by another model (or mode): its fingerprint does not match this one");
  if (h.dtype != uint32_t(pool.dtype()))
    return Status::Error(name + " holds a " + kv_dtype_name(int(h.dtype)) + " KV cache and this engine keeps " +
                         kv_dtype_name(pool.dtype()) + " (load with kv_dtype " + kv_dtype_name(int(h.dtype)) +
                         " to use it)");
  if (h.n_layers != uint32_t(pool.n_layers()) || h.row != uint32_t(pool.row()) ||
      h.block_tokens != uint32_t(pool.block_tokens()))
    return Status::Error(name + " has another cache layout (layers, row or block size)");
  const int32_t* ids = reinterpret_cast<const int32_t*>(data->data() + sizeof(SnapshotHeader));
  if (fnv1a64(ids, h.n_tokens * sizeof(int32_t)) != h.tokens_hash) return Status::Error(name + " is corrupted (token hash)");
  if (h.n_tokens > prompt.size() || !std::equal(ids, ids + h.n_tokens, prompt.begin()))
    return Status::Error(name + " holds another prefix (its " + std::to_string(h.n_tokens) +
                         " tokens are not the start of this prompt)");
  *header = h;
  utime(path.c_str(), nullptr);  // used now: last in line for pruning
  return Status::OK();
}

Status prune_snapshots(const std::string& dir, int64_t budget_bytes, int64_t* removed) {
  if (removed) *removed = 0;
  DIR* d = opendir(dir.c_str());
  if (!d) return Status::Error("snapshots: cannot read " + dir + ": " + errno_text());
  struct File { std::string path; int64_t bytes; time_t mtime; };
  std::vector<File> files;
  int64_t total = 0;
  constexpr char kExt[] = ".kvsnap";
  for (dirent* e; (e = readdir(d));) {
    const std::string n = e->d_name;
    if (n.size() <= sizeof(kExt) - 1 || n.compare(n.size() - (sizeof(kExt) - 1), std::string::npos, kExt) != 0) continue;
    struct stat st;
    const std::string p = dir + "/" + n;
    if (stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    files.push_back({p, int64_t(st.st_size), st.st_mtime});
    total += int64_t(st.st_size);
  }
  closedir(d);
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.mtime < b.mtime; });
  for (const File& f : files) {
    if (total <= budget_bytes) break;
    if (std::remove(f.path.c_str()) == 0) {
      total -= f.bytes;
      if (removed) ++*removed;
    }
  }
  return Status::OK();
}

}  // namespace kk

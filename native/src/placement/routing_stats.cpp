// routing_stats.cpp — decayed per-expert routing counts and their small on-disk file.
#include "placement/routing_stats.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace kk::placement {

namespace {
constexpr char kMagic[4] = {'K', 'K', 'R', 'S'};
constexpr uint32_t kVersion = 1;
// Sanity bounds for files read back (K2: 61 layers, 384 experts); a file outside them is corrupt.
constexpr int kMaxLayers = 4096;
constexpr int kMaxExperts = 1 << 16;
constexpr uint32_t kMaxKeyBytes = 4096;

struct FileCloser { void operator()(FILE* f) const { if (f) fclose(f); } };
using File = std::unique_ptr<FILE, FileCloser>;

template <typename T> bool put(FILE* f, const T* v, size_t n = 1) { return fwrite(v, sizeof(T), n, f) == n; }
template <typename T> bool get(FILE* f, T* v, size_t n = 1) { return fread(v, sizeof(T), n, f) == n; }
}  // namespace

RoutingStats::RoutingStats(int n_layers, int n_experts, double half_life_tokens)
    : n_layers_(n_layers > 0 ? n_layers : 0),
      n_experts_(n_experts > 0 ? n_experts : 0),
      half_life_(half_life_tokens > 0 ? half_life_tokens : kDefaultHalfLifeTokens),
      counts_(size_t(n_layers_) * n_experts_, 0.0),
      tokens_(n_layers_, 0.0) {}

Status RoutingStats::record(int layer, const int32_t* ids, int64_t n_tokens, int top_k) {
  if (layer < 0 || layer >= n_layers_)
    return Status::Error("routing stats: layer " + std::to_string(layer) + " out of range");
  if (n_tokens < 0 || top_k <= 0 || (n_tokens > 0 && !ids))
    return Status::Error("routing stats: bad batch for layer " + std::to_string(layer));
  for (int64_t i = 0; i < n_tokens * top_k; ++i)
    if (ids[i] < 0 || ids[i] >= n_experts_)
      return Status::Error("routing stats: expert id " + std::to_string(ids[i]) + " out of range in layer " +
                           std::to_string(layer));
  double* c = &counts_[size_t(layer) * n_experts_];
  const double decay = std::exp2(-double(n_tokens) / half_life_);
  for (int e = 0; e < n_experts_; ++e) c[e] *= decay;
  tokens_[layer] = tokens_[layer] * decay + double(n_tokens);
  for (int64_t i = 0; i < n_tokens * top_k; ++i) c[ids[i]] += 1.0;
  return Status::OK();
}

double RoutingStats::decisions(int layer) const {
  double s = 0;
  const double* c = &counts_[size_t(layer) * n_experts_];
  for (int e = 0; e < n_experts_; ++e) s += c[e];
  return s;
}

double RoutingStats::share(int layer, int expert) const {
  return (count(layer, expert) + kPriorCount) / (decisions(layer) + kPriorCount * n_experts_);
}

Status RoutingStats::save(const std::string& path, const std::string& model_key) const {
  if (model_key.size() > kMaxKeyBytes) return Status::Error("routing stats: model key too long");
  const std::string tmp = path + ".tmp";
  {
    File f(fopen(tmp.c_str(), "wb"));
    if (!f) return Status::Error("routing stats: cannot write " + tmp);
    const uint32_t key_len = uint32_t(model_key.size());
    const int32_t dims[2] = {n_layers_, n_experts_};
    bool ok = put(f.get(), kMagic, 4) && put(f.get(), &kVersion) && put(f.get(), dims, 2) &&
              put(f.get(), &half_life_) && put(f.get(), &key_len) &&
              (key_len == 0 || put(f.get(), model_key.data(), key_len)) &&
              (tokens_.empty() || put(f.get(), tokens_.data(), tokens_.size())) &&
              (counts_.empty() || put(f.get(), counts_.data(), counts_.size()));
    if (!ok || fflush(f.get()) != 0) return Status::Error("routing stats: short write to " + tmp);
  }
  // Rename so a crash mid-write never leaves a torn file under the real name.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::Error("routing stats: cannot rename " + tmp + " to " + path);
  }
  return Status::OK();
}

Status RoutingStats::load(const std::string& path, const std::string& model_key, RoutingStats* out) {
  File f(fopen(path.c_str(), "rb"));
  if (!f) return Status::Error("routing stats: cannot open " + path);
  auto bad = [&](const std::string& why) { return Status::Error("routing stats: " + path + ": " + why); };
  char magic[4];
  uint32_t version = 0, key_len = 0;
  int32_t dims[2] = {0, 0};
  double half_life = 0;
  if (!get(f.get(), magic, 4) || std::memcmp(magic, kMagic, 4) != 0) return bad("not a routing stats file");
  if (!get(f.get(), &version) || version != kVersion) return bad("unsupported version");
  if (!get(f.get(), dims, 2) || dims[0] <= 0 || dims[0] > kMaxLayers || dims[1] <= 0 || dims[1] > kMaxExperts)
    return bad("bad dimensions");
  if (!get(f.get(), &half_life) || !(half_life > 0) || !std::isfinite(half_life)) return bad("bad half-life");
  if (!get(f.get(), &key_len) || key_len > kMaxKeyBytes) return bad("bad model key");
  std::string key(key_len, '\0');
  if (key_len && !get(f.get(), &key[0], key_len)) return bad("truncated model key");
  if (key != model_key) return bad("belongs to another model");
  RoutingStats s(dims[0], dims[1], half_life);
  if (!get(f.get(), s.tokens_.data(), s.tokens_.size()) || !get(f.get(), s.counts_.data(), s.counts_.size()))
    return bad("truncated");
  char extra;
  if (fread(&extra, 1, 1, f.get()) != 0) return bad("trailing bytes");
  for (double v : s.tokens_) if (!(v >= 0) || !std::isfinite(v)) return bad("bad token count");
  for (double v : s.counts_) if (!(v >= 0) || !std::isfinite(v)) return bad("bad expert count");
  *out = std::move(s);
  return Status::OK();
}

std::string RoutingStats::file_name_for(const std::string& model_key) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : model_key) { h ^= c; h *= 1099511628211ull; }
  char buf[64];
  std::snprintf(buf, sizeof buf, "routing-stats-%016llx.bin", (unsigned long long)h);
  return buf;
}

}  // namespace kk::placement

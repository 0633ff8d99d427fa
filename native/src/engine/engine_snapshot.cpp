// engine_snapshot.cpp — Engine::save_snapshot / restore_snapshot over the prefix cache.
#include "engine/engine_impl.h"
#include "engine/snapshot.h"

namespace kk {

Status EngineImpl::save_snapshot(const std::vector<int32_t>& prompt, const std::string& path,
                                 int64_t* tokens_saved) {
  if (tokens_saved) *tokens_saved = 0;
  std::vector<int32_t> blocks;
  int64_t n = 0;
  {
    std::lock_guard<std::mutex> g(pool_mu_);
    n = pool_.share_cached(prompt.data(), int64_t(prompt.size()), &blocks);
  }
  // The references keep the blocks (read-only, cached) alive while the file is written unlocked.
  const Status st = n <= 0 ? Status::Error("snapshot: no cached prefix of this prompt to save")
                           : write_snapshot(path, fingerprint_, pool_.blocks(), prompt.data(), n, blocks);
  {
    std::lock_guard<std::mutex> g(pool_mu_);
    pool_.unref(blocks);
  }
  if (st.ok() && tokens_saved) *tokens_saved = n;
  return st;
}

Status EngineImpl::restore_snapshot(const std::string& path, const std::vector<int32_t>& prompt,
                                    int64_t* tokens_restored) {
  if (tokens_restored) *tokens_restored = 0;
  std::vector<char> data;
  SnapshotHeader h;
  KK_RETURN_IF_ERROR(read_snapshot(path, fingerprint_, pool_.blocks(), prompt, &data, &h));
  const int32_t* ids = reinterpret_cast<const int32_t*>(data.data() + sizeof(SnapshotHeader));
  const uint8_t* rows = reinterpret_cast<const uint8_t*>(data.data() + sizeof(SnapshotHeader) + h.n_tokens * sizeof(int32_t));
  std::lock_guard<std::mutex> g(pool_mu_);
  std::vector<int32_t> have;
  const int64_t cached = pool_.share_cached(ids, int64_t(h.n_tokens), &have);
  pool_.unref(have);
  if (cached < int64_t(h.n_tokens)) KK_RETURN_IF_ERROR(pool_.import_prefix(ids, int64_t(h.n_tokens), rows));
  if (tokens_restored) *tokens_restored = int64_t(h.n_tokens);
  return Status::OK();
}

}  // namespace kk

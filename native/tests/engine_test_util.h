// engine_test_util.h — what the engine-session tests share: where the ground truth is, loading an
// engine as its implementation, random prompts, and the last token's logits prefilled fresh or
// through the prefix cache. Header-only; include after test_util.h (CHECK).
#pragma once
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>
#include "engine/engine_impl.h"

namespace kk_test {

// The shared ground truth: $KK_SHARED (ctest sets it), else beside the checkout.
inline std::string shared_dir() {
  if (const char* s = std::getenv("KK_SHARED")) return s;
  return "../shared";
}
inline bool exists(const std::string& p) { struct stat st; return stat(p.c_str(), &st) == 0; }

// Loads `dir`; a failed load is a failed check and ends the test (nothing after it can run).
inline std::unique_ptr<kk::EngineImpl> load_engine(const std::string& dir, const kk::LoadOptions& lo) {
  std::unique_ptr<kk::Engine> e;
  const kk::Status st = kk::Engine::load(dir, lo, nullptr, &e);
  CHECK(st.ok(), "load %s: %s", dir.c_str(), st.message().c_str());
  if (!st.ok()) std::exit(1);
  return std::unique_ptr<kk::EngineImpl>(static_cast<kk::EngineImpl*>(e.release()));
}

// n token ids drawn from [3, vocab): clear of the low special ids.
inline std::vector<int32_t> random_ids(std::mt19937& rng, int n, int vocab) {
  std::uniform_int_distribution<int32_t> d(3, vocab - 1);
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}
inline std::vector<int32_t> cat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Largest |a - b|; a NaN anywhere, a size mismatch or nothing to compare counts as infinitely far.
inline double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d <= m)) m = d;
  }
  return m;
}

// The last token's logits of `ids` prefilled on a new sequence that does not touch the cache.
inline std::vector<float> fresh_logits(kk::EngineImpl& e, const std::vector<int32_t>& ids) {
  kk::SeqId s = -1;
  CHECK(e.new_sequence(&s).ok(), "new_sequence");
  kk::ForwardResult r;
  const kk::Status st = e.forward(s, ids.data(), int(ids.size()), kk::ForwardRequest(), &r);
  CHECK(st.ok(), "fresh forward: %s", st.message().c_str());
  e.free_sequence(s);
  return r.logits;
}

// The same through the prefix cache: the sequence starts from the longest cached prefix of ids,
// prefills the rest, and its tokens are cached afterwards (as a finished request's are).
inline std::vector<float> cached_logits(kk::EngineImpl& e, const std::vector<int32_t>& ids, int64_t* cached) {
  kk::SeqId s = -1;
  CHECK(e.open_sequence(ids, &s, cached).ok(), "open_sequence");
  kk::ForwardResult r;
  const int64_t rest = int64_t(ids.size()) - *cached;
  const kk::Status st = e.forward(s, ids.data() + *cached, int(rest), kk::ForwardRequest(), &r);
  CHECK(st.ok(), "forward after the hit: %s", st.message().c_str());
  e.close_sequence(s, true);
  return r.logits;
}

}  // namespace kk_test

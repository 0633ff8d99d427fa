// test_layout_cache.cpp — the routed experts' block_q4x16 layout written once and mapped on
// later loads (loader/layout_cache.h): the first load writes one file per stacked expert tensor,
// the second maps them (no owner: a read-only view) with the bytes the repack gives; a damaged
// header, damaged data, a truncated file, another layout version or a garbage file is rebuilt
// (and valid again afterwards), a changed checkpoint gets a new folder; tiny-k2's eval PASSes
// from the cache in both modes.
#include "loader_test_util.h"

#include "core/q4x16.h"
#include "loader/layout_cache.h"

namespace {

struct Experts { std::vector<Tensor> t; };

Experts experts_of(const ModelWeights& w) {
  Experts e;
  for (const LayerWeights& l : w.layers)
    if (l.is_moe)
      for (const Tensor* t : {&l.moe.gate_exps, &l.moe.up_exps, &l.moe.down_exps}) e.t.push_back(*t);
  return e;
}

Status load_with(const std::string& cache, ModelWeights* w) {
  LoaderOptions lo;
  lo.layout_cache_dir = cache;
  lo.threads = 2;
  return load_checkpoint(tiny_dir(), lo, nullptr, w);
}

// The cache's files (sorted), under its single key folder.
std::vector<std::string> cache_files(const std::string& cache) {
  std::vector<std::string> out;
  if (!fs::exists(cache)) return out;
  for (const auto& e : fs::recursive_directory_iterator(cache))
    if (e.is_regular_file()) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Loads from the cache and checks every expert tensor against want: all built from the checkpoint
// (kAllBuilt), all mapped (kAllMapped), or only tensor `built` built and the rest mapped.
constexpr int kAllBuilt = -2, kAllMapped = -1;
void check_load(const std::string& cache, const Experts& want, int built, const char* what) {
  ModelWeights w;
  const Status s = load_with(cache, &w);
  CHECK(s.ok(), "[%s] load: %s", what, s.message().c_str());
  if (!s.ok()) return;
  const Experts got = experts_of(w);
  CHECK(got.t.size() == want.t.size(), "[%s] expert tensors %zu", what, got.t.size());
  for (size_t i = 0; i < got.t.size() && i < want.t.size(); ++i) {
    const Tensor &g = got.t[i], &r = want.t[i];
    const bool expect_mapped = built == kAllMapped || (built >= 0 && size_t(built) != i);
    CHECK(g.type == DType::Q4X16 && g.shape == r.shape && g.nbytes() == r.nbytes() &&
              std::memcmp(g.data, r.data, r.nbytes()) == 0,
          "[%s] %s: not the repacked bytes", what, r.name.c_str());
    CHECK((g.owner == nullptr) == expect_mapped, "[%s] %s: %s", what, r.name.c_str(),
          expect_mapped ? "expected a mapped view of the cache" : "expected bytes built from the checkpoint");
  }
}

void patch(const std::string& path, size_t off, const void* bytes, size_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(off));
  f.write(static_cast<const char*>(bytes), std::streamsize(n));
}

uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) { h ^= p[i]; h *= 1099511628211ull; }
  return h;
}

}  // namespace

int main() {
  if (!fs::exists(tiny_dir() + "/config.json")) {
    std::fprintf(stderr, "tiny-k2 fixture missing at %s\n", tiny_dir().c_str());
    return 1;  // the fixture is part of the shared ground truth: missing is a failure
  }
  char tmpl[] = "/tmp/kk_layout_cache_XXXXXX";
  const std::string root = mkdtemp(tmpl);
  const std::string cache = root + "/cache";

  // The reference: loaded without a cache, repacked as the engine would.
  ModelWeights ref;
  CHECK(load_with("", &ref).ok(), "reference load");
  Experts want = experts_of(ref);
  for (Tensor& t : want.t) {
    std::vector<uint8_t> copy(static_cast<uint8_t*>(t.data), static_cast<uint8_t*>(t.data) + t.nbytes());
    auto owned = std::shared_ptr<uint8_t>(new uint8_t[copy.size()], std::default_delete<uint8_t[]>());
    std::memcpy(owned.get(), copy.data(), copy.size());
    t.data = owned.get();
    t.owner = owned;
    CHECK(q4x16_repack(&t, nullptr).ok() && t.type == DType::Q4X16, "repack %s", t.name.c_str());
  }
  CHECK(!want.t.empty(), "tiny-k2 has routed experts");

  check_load(cache, want, kAllBuilt, "first load");
  const std::vector<std::string> files = cache_files(cache);
  CHECK(files.size() == want.t.size(), "one file per stacked expert tensor: %zu", files.size());
  check_load(cache, want, kAllMapped, "second load");

  // Damage, each rebuilt on the next load and mapped again on the one after.
  if (!files.empty()) {
    std::string f;  // tensor 0's file
    for (const std::string& p : files)
      if (p.size() > want.t[0].name.size() + 6 && p.compare(p.size() - want.t[0].name.size() - 6, std::string::npos, want.t[0].name + ".q4x16") == 0) f = p;
    CHECK(!f.empty(), "a file named for %s", want.t[0].name.c_str());
    struct Case { const char* what; std::function<void()> damage; };
    const Case cases[] = {
        {"header byte", [&] { const char x = 'X'; patch(f, 0, &x, 1); }},
        {"data byte", [&] { const uint8_t x[8] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}; patch(f, 4096, x, 8); }},
        {"truncated", [&] { fs::resize_file(f, fs::file_size(f) - 1); }},
        {"another version", [&] {
           std::string head = slurp(f).substr(0, 64);
           uint32_t v = kLayoutCacheVersion + 1;
           std::memcpy(&head[8], &v, 4);
           const uint64_t h = fnv1a(reinterpret_cast<const uint8_t*>(head.data()), 56);  // fields before header_hash
           std::memcpy(&head[56], &h, 8);
           patch(f, 0, head.data(), 64);
         }},
        {"garbage file", [&] { spit(f, std::string(100, '\0')); }},
    };
    for (const Case& c : cases) {
      c.damage();
      std::string why;
      Tensor t;
      std::shared_ptr<void> m;
      CHECK(!layout_cache_map(f, want.t[0].name, want.t[0].shape, &t, &m, &why), "[%s] damaged file accepted", c.what);
      check_load(cache, want, 0, c.what);  // tensor 0 rebuilt from the checkpoint, the rest mapped
      check_load(cache, want, kAllMapped, (std::string(c.what) + ", then").c_str());
    }
  }

  // A changed checkpoint (here: a shard's mtime) keys a new folder; the old one is never read.
  {
    const std::string copy = root + "/ckpt";
    fs::create_directories(copy);
    for (const auto& e : fs::directory_iterator(tiny_dir())) fs::copy_file(e.path(), copy + "/" + e.path().filename().string());
    const std::string a = layout_cache_folder(cache, copy, true);
    const std::string shard = copy + "/model-00001-of-00002.safetensors";
    fs::last_write_time(shard, fs::last_write_time(shard) + std::chrono::seconds(5));
    const std::string b = layout_cache_folder(cache, copy, true);
    CHECK(!a.empty() && !b.empty() && a != b, "a touched shard changes the key (%s, %s)", a.c_str(), b.c_str());
    CHECK(layout_cache_folder(cache, copy, false) != b, "requantize is part of the key");
    CHECK(layout_cache_folder(cache, root + "/none", true).empty(), "no checkpoint: no folder");
  }

  // The engine with the cache (mapped on the second load): tiny-k2's eval PASSes in both modes.
  for (const char* mode : {"exact", "fast"})
    for (int pass = 0; pass < 2; ++pass) {
      EvalOptions o;
      o.load.mode = mode;
      o.load.threads = 2;
      o.load.layout_cache_dir = root + "/engine-cache";
      EvalReport rep;
      const Status s = run_eval(tiny_dir(), tiny_dir() + "/reference.safetensors", o, nullptr, &rep);
      CHECK(s.ok() && rep.pass, "eval %s from the layout cache (load %d): %s", mode, pass + 1, s.message().c_str());
    }

  fs::remove_all(root);
  if (g_failures) { std::fprintf(stderr, "test_layout_cache: %d failures\n", g_failures); return 1; }
  std::printf("test_layout_cache: all checks passed (%zu files; damage cases rebuilt; eval PASS exact/fast)\n", files.size());
  return 0;
}

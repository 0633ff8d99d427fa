// loader_test_util.h — shared by the loader tests (test_loader*.cpp): includes, CHECK, file helpers.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "karakoram/engine.h"
#include "karakoram/tools.h"
#include "loader/fp8.h"
#include "loader/int4.h"
#include "loader/loader.h"
#include "loader/safetensors.h"

using namespace kk;
namespace fs = std::filesystem;
using json = nlohmann::json;

inline int g_failures = 0;
#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                   \
      std::fprintf(stderr, "\n");                                          \
      g_failures++;                                                        \
    }                                                                      \
  } while (0)

inline std::string shared_dir() {
  const char* e = std::getenv("KK_SHARED");
  return e ? e : "../shared";
}
inline std::string tiny_dir() { return shared_dir() + "/fixtures/tiny-k2"; }

inline std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline void spit(const std::string& p, const std::string& data) {
  std::ofstream o(p, std::ios::binary | std::ios::trunc);
  o << data;
}


// The shard that holds `tensor` in a checkpoint's index.
inline std::string shard_of(const std::string& dir, const std::string& tensor) {
  json idx = json::parse(slurp(dir + "/model.safetensors.index.json"));
  return idx["weight_map"].value(tensor, std::string());
}

// Requantization error bound in scale steps: 1/2, plus 7.5 * 2^-8 when the bf16-rounded scale
// puts the group maximum just past 7.5 and the clamp to 7 adds to the rounding.
constexpr float kInt4ErrSteps = 0.5f + 7.5f / 256.f + 1e-5f;

inline std::string make_tmp_dir(const char* name) {
  std::string tmpl = std::string("/tmp/kk_") + name + "_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  return mkdtemp(buf.data());
}

inline int finish_loader_test(const char* name, const std::string& tmp) {
  if (!tmp.empty()) fs::remove_all(tmp);
  if (g_failures) { std::fprintf(stderr, "%d check(s) failed\n", g_failures); return 1; }
  std::printf("%s: ok\n", name);
  return 0;
}

// fuzz_safetensors_index.cpp — libFuzzer target: any bytes as model.safetensors.index.json text,
// read in a scratch folder holding the seeds' shard names as empty files, so accepted indexes get
// past the shard checks (promise: kk_parser_checks::safetensors_index). Run by scripts/fuzz-parsers.sh.
#include <stdlib.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include "parser_checks.h"

namespace {
std::string g_dir;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/kk_fuzz_index_XXXXXX";
  if (!mkdtemp(tmpl)) return 0;
  g_dir = tmpl;
  for (const std::string& s : kk_parser_checks::index_shard_names())
    if (FILE* f = std::fopen((g_dir + "/" + s).c_str(), "wb")) std::fclose(f);
  std::atexit([] {  // leave no scratch folder behind
    for (const std::string& s : kk_parser_checks::index_shard_names()) unlink((g_dir + "/" + s).c_str());
    rmdir(g_dir.c_str());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string broken = kk_parser_checks::safetensors_index(data, size, g_dir);
  if (!broken.empty()) { std::fprintf(stderr, "%s\n", broken.c_str()); __builtin_trap(); }
  return 0;
}

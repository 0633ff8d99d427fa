// fuzz_config_json.cpp — libFuzzer target: any bytes as config.json text
// (promise: kk_parser_checks::config_json). Run by scripts/fuzz-parsers.sh.
#include <cstdio>
#include "parser_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string broken = kk_parser_checks::config_json(data, size);
  if (!broken.empty()) { std::fprintf(stderr, "%s\n", broken.c_str()); __builtin_trap(); }
  return 0;
}

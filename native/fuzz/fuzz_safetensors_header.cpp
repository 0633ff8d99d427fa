// fuzz_safetensors_header.cpp — libFuzzer target: any bytes as a safetensors file image
// (promise: kk_parser_checks::safetensors_header). Run by scripts/fuzz-parsers.sh.
#include <cstdio>
#include "parser_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string broken = kk_parser_checks::safetensors_header(data, size);
  if (!broken.empty()) { std::fprintf(stderr, "%s\n", broken.c_str()); __builtin_trap(); }
  return 0;
}

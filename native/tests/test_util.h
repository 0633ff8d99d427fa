// test_util.h — tiny helpers shared by the C++ tests: CHECK prints and counts failures.
#pragma once
#include <cstdio>
#include <cstdlib>

namespace kk_test {
inline int& failures() { static int n = 0; return n; }
inline int finish(const char* name) {
  if (failures()) { std::printf("%s: %d FAILED\n", name, failures()); return 1; }
  std::printf("%s: all checks passed\n", name);
  return 0;
}
}  // namespace kk_test

#define CHECK(cond, ...)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      ++kk_test::failures();                                           \
      std::printf("FAIL %s:%d: %s — ", __FILE__, __LINE__, #cond);     \
      std::printf(__VA_ARGS__);                                        \
      std::printf("\n");                                               \
    }                                                                  \
  } while (0)

constexpr int KK_TEST_SKIP = 77;

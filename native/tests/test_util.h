// test_util.h — tiny helpers shared by the C++ tests: CHECK prints and counts failures;
// run_cases runs named cases so that a failure says which case broke.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace kk_test {
inline int& failures() { static int n = 0; return n; }
inline int finish(const char* name) {
  if (failures()) { std::printf("%s: %d FAILED\n", name, failures()); return 1; }
  std::printf("%s: all checks passed\n", name);
  return 0;
}

struct NamedCase {
  std::string name;
  std::function<void()> run;  // reports through CHECK
};

// Runs the cases in order (or only those named on the command line), printing "PASS name" or
// "FAIL name (N failed checks)" after each and a summary line; returns 1 when any case failed or a
// name on the command line is not a case.
inline int run_cases(const char* test, const std::vector<NamedCase>& cases, int argc, char** argv) {
  const std::vector<std::string> only(argv + 1, argv + argc);
  for (const std::string& w : only)
    if (std::none_of(cases.begin(), cases.end(), [&](const NamedCase& c) { return c.name == w; })) {
      std::printf("%s: no case named '%s'\n", test, w.c_str());
      return 1;
    }
  int ran = 0, failed = 0;
  for (const NamedCase& c : cases) {
    if (!only.empty() && std::find(only.begin(), only.end(), c.name) == only.end()) continue;
    std::printf("RUN  %s\n", c.name.c_str());
    std::fflush(stdout);
    const int before = failures();
    c.run();
    const int n = failures() - before;
    ++ran;
    if (n) {
      ++failed;
      std::printf("FAIL %s (%d failed checks)\n", c.name.c_str(), n);
    } else {
      std::printf("PASS %s\n", c.name.c_str());
    }
    std::fflush(stdout);
  }
  if (failed) { std::printf("%s: %d of %d cases FAILED\n", test, failed, ran); return 1; }
  std::printf("%s: all %d cases passed\n", test, ran);
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

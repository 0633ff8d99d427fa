// kk_convert — loads a checkpoint (block-FP8 or bf16 experts are converted to INT4 unless
// --requantize off) and saves it in Kimi-K2-Thinking's layout, so the conversion is paid once.
// Usage: kk_convert --model DIR --out DIR [--requantize int4|off]
#include <chrono>
#include <cstdio>
#include <string>

#include "loader/loader.h"

int main(int argc, char** argv) {
  std::string in, out;
  kk::LoaderOptions lo;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") in = v;
    else if (k == "--out") out = v;
    else if (k == "--requantize") lo.requantize = v != "off";
    else { std::fprintf(stderr, "kk_convert: unknown option %s\n", k.c_str()); return 2; }
  }
  if (in.empty() || out.empty()) { std::fprintf(stderr, "usage: kk_convert --model DIR --out DIR [--requantize int4|off]\n"); return 2; }
  const auto t0 = std::chrono::steady_clock::now();
  kk::ModelWeights w;
  kk::Status s = kk::load_checkpoint(in, lo, [](const std::string& st, double f) {
    std::fprintf(stderr, "\r%-8s %5.1f%%", st.c_str(), f * 100);
  }, &w);
  std::fprintf(stderr, "\n");
  if (s.ok()) s = kk::save_checkpoint(w, out);
  if (!s.ok()) { std::fprintf(stderr, "kk_convert: %s\n", s.message().c_str()); return 1; }
  std::printf("converted %s -> %s in %.1f s\n", in.c_str(), out.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

// kk_synth — writes a random-weight checkpoint in Kimi-K2-Thinking's format without Node (for
// benchmark machines). Same options as `karakoram synth`.
// Usage: kk_synth --preset tiny|k2 [--layers N] [--experts N] [--seed S] [--routing-skew S]
//                 [--expert-format int4|bf16|fp8] [--dense-format bf16|fp8] --out DIR
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "karakoram/tools.h"

int main(int argc, char** argv) {
  kk::SynthOptions o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--preset") o.preset = v;
    else if (k == "--layers") o.layers = std::atoi(v.c_str());
    else if (k == "--experts") o.experts = std::atoi(v.c_str());
    else if (k == "--seed") o.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--routing-skew") o.routing_skew = std::atof(v.c_str());
    else if (k == "--expert-format") o.expert_format = v;
    else if (k == "--dense-format") o.dense_format = v;
    else if (k == "--out") o.out_dir = v;
    else { std::fprintf(stderr, "kk_synth: unknown option %s\n", k.c_str()); return 2; }
  }
  if (o.out_dir.empty()) { std::fprintf(stderr, "kk_synth: --out DIR is required\n"); return 2; }
  const auto t0 = std::chrono::steady_clock::now();
  int last = -1;
  kk::Status s = kk::write_synthetic(o, [&](const std::string&, double f) {
    if (int(f * 100) / 10 != last) { last = int(f * 100) / 10; std::fprintf(stderr, "\rsynth %3d%%", last * 10); }
  });
  std::fprintf(stderr, "\n");
  if (!s.ok()) { std::fprintf(stderr, "kk_synth: %s\n", s.message().c_str()); return 1; }
  std::printf("wrote %s in %.1f s\n", o.out_dir.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

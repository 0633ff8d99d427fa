// kk_bench — stand-alone `karakoram bench`: prints one JSON object.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include "karakoram/engine.h"
#include "karakoram/tools.h"
#include "cli_args.h"

int main(int argc, char** argv) {
  KkArgs a;
  if (!a.parse(argc, argv) || (a.has("model") == a.has("synthetic"))) {
    std::fprintf(stderr, "usage: kk_bench --model DIR | --synthetic k2[:layers=N][:experts=N][:vocab=N]|tiny "
                         "[--prompt-len N] [--gen N] [--threads T] [--mode exact|fast] [--kv-dtype fp32|bf16|fp8] [--q4-layout auto|rows]\n"
                         "       [--layout-cache DIR]\n"
                         "       [--prefix-len N] [--follow-len N] [--concurrency 1,2,4,8]\n");
    return 2;
  }
  kk::BenchOptions o;
  o.model_dir = a.str("model");
  o.synthetic = a.str("synthetic");
  o.prompt_len = int(a.num("prompt-len", 64));
  o.gen = int(a.num("gen", 16));
  o.threads = int(a.num("threads", 0));
  o.mode = a.str("mode", "exact");
  o.kv_dtype = a.str("kv-dtype", "");
  o.q4_layout = a.str("q4-layout", "auto");
  o.layout_cache_dir = a.str("layout-cache");
  o.prefix_len = int(a.num("prefix-len", 0));
  o.follow_len = int(a.num("follow-len", 32));
  {
    std::stringstream list(a.str("concurrency"));
    for (std::string n; std::getline(list, n, ',');) o.concurrency.push_back(std::atoi(n.c_str()));
  }
  std::string json;
  kk::Status s = kk::run_bench(o, &json);
  if (!s.ok()) { std::fprintf(stderr, "bench: error: %s\n", s.message().c_str()); return 2; }
  std::printf("%s\n", json.c_str());
  return 0;
}

// kk_eval — stand-alone `karakoram eval`: prints a line per prompt and the final eval line;
// exit 0 only on PASS (1 on FAIL, 2 on error).
#include <cstdio>
#include "karakoram/engine.h"
#include "karakoram/tools.h"
#include "cli_args.h"

int main(int argc, char** argv) {
  KkArgs a;
  if (!a.parse(argc, argv) || !a.has("model") || !a.has("reference")) {
    std::fprintf(stderr, "usage: kk_eval --model DIR --reference FILE [--backend cpu] [--mode exact|fast] [--kv-dtype fp32|bf16|fp8] "
                         "[--requantize int4|off] [--threads N]\n");
    return 2;
  }
  kk::EvalOptions o;
  o.load.backend = a.str("backend", "cpu");
  o.load.mode = a.str("mode", "exact");
  o.load.kv_dtype = a.str("kv-dtype", "");
  o.load.requantize = a.str("requantize", "int4") != "off";
  o.load.threads = int(a.num("threads", 0));
  kk::EvalReport rep;
  kk::Status s = kk::run_eval(a.str("model"), a.str("reference"), o,
                              [](const std::string& line) { std::printf("%s\n", line.c_str()); std::fflush(stdout); }, &rep);
  if (!s.ok()) { std::fprintf(stderr, "eval: error: %s\n", s.message().c_str()); return 2; }
  return rep.pass ? 0 : 1;
}

// kk_run — stand-alone `karakoram run --prompt-ids`: prints the generated ids as a JSON array on
// stdout (as the TypeScript CLI does) and a timing line on stderr. Greedy unless --temperature;
// stops at the eos ids of generation_config.json (else config.json) unless --stop-ids is given.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include "karakoram/engine.h"
#include "cli_args.h"

int main(int argc, char** argv) {
  KkArgs a;
  if (!a.parse(argc, argv) || !a.has("model") || !a.has("prompt-ids")) {
    std::fprintf(stderr, "usage: kk_run --model DIR --prompt-ids 1,2,3 [--max-tokens N] [--seed S] "
                         "[--temperature T] [--top-k K] [--top-p P] [--min-p P] [--stop-ids a,b] "
                         "[--mode exact|fast] [--threads N]\n");
    return 2;
  }
  auto ids_of = [](const std::string& s) {
    std::vector<int32_t> v;
    std::stringstream ss(s);
    for (std::string tok; std::getline(ss, tok, ',');) if (!tok.empty()) v.push_back(int32_t(std::stol(tok)));
    return v;
  };
  kk::LoadOptions lo;
  lo.mode = a.str("mode", "exact");
  lo.threads = int(a.num("threads", 0));
  lo.max_sequences = 1;
  std::unique_ptr<kk::Engine> e;
  kk::Status s = kk::Engine::load(a.str("model"), lo, nullptr, &e);
  if (!s.ok()) { std::fprintf(stderr, "run: error: %s\n", s.message().c_str()); return 2; }
  kk::SamplingParams sp;
  sp.max_tokens = int(a.num("max-tokens", 32));
  sp.seed = uint64_t(a.num("seed", 0));
  sp.temperature = float(a.real("temperature", 0.0));  // greedy unless asked
  sp.top_k = int(a.num("top-k", 0));
  sp.top_p = float(a.real("top-p", 1.0));
  sp.min_p = float(a.real("min-p", 0.0));
  sp.stop_ids = a.has("stop-ids") ? ids_of(a.str("stop-ids")) : std::vector<int32_t>{};
  if (!a.has("stop-ids")) {
    for (const char* f : {"/generation_config.json", "/config.json"}) {
      std::ifstream in(a.str("model") + f);
      if (!in) continue;
      const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_discarded() || !j.contains("eos_token_id")) continue;
      const auto& eos = j["eos_token_id"];
      if (eos.is_array()) { for (const auto& x : eos) if (x.is_number_integer()) sp.stop_ids.push_back(x.get<int32_t>()); }
      else if (eos.is_number_integer()) sp.stop_ids.push_back(eos.get<int32_t>());
      break;
    }
  }
  kk::GenerateResult r;
  s = e->generate(ids_of(a.str("prompt-ids")), sp, nullptr, &r);
  if (!s.ok()) { std::fprintf(stderr, "run: error: %s\n", s.message().c_str()); return 2; }
  std::printf("[");
  for (size_t i = 0; i < r.output_ids.size(); ++i) std::printf(i ? ",%d" : "%d", r.output_ids[i]);
  std::printf("]\n");
  std::fprintf(stderr, "finish=%s prompt_tokens=%d completion_tokens=%d prefill_ms=%.1f decode_ms=%.1f\n",
               r.finish_reason.c_str(), r.prompt_tokens, r.completion_tokens, r.prefill_ms, r.decode_ms);
  return 0;
}

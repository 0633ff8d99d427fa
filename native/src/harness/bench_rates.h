// bench_rates.h — `karakoram bench`'s compute figures: the machine's measured compute peak and,
// per prefill op, the achieved GFLOP/s and its fraction of the peak of the instruction the op's
// kernel is built on (measured in the same run, so shared cores affect both alike).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cpu/peak.h"
#include "model/config.h"

namespace kk {

nlohmann::ordered_json compute_peak_json(const cpu::ComputePeak& p);

// ms_per_token: the bench's prefill_ops (ms per op per prompt token) for a prompt of
// prompt_len tokens from an empty context; fast: fast-mode run (INT4 experts on vpdpbusd).
nlohmann::ordered_json prefill_op_rates(const ModelConfig& c, const std::map<std::string, double>& ms_per_token,
                                        int prompt_len, bool fast, const cpu::ComputePeak& peak);

}  // namespace kk

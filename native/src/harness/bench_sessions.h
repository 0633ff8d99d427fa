// bench_sessions.h — `karakoram bench`'s engine-session figures, measured on the bench's engine:
//  - time to first token of a follow-up after a long prefix: fresh (the whole prompt read),
//    after a prefix-cache hit, and after restoring the prefix from a KV snapshot file;
//  - aggregate decode tokens/s of N sequences decoding together (one batched forward per step),
//    the bytes one step must read (weights once, each routed expert chosen by any of the N once,
//    and every sequence's latent cache) and the fraction of the measured read bandwidth that is.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>
#include "core/status.h"
#include "engine/engine_impl.h"

namespace kk {

// Context each sequence holds before the concurrency measurement starts (a short chat turn).
constexpr int kConcurrencyContext = 64;

// Adds ttft_fresh_ms, ttft_prefix_hit_ms, ttft_snapshot_ms (and the parts of each) to *j.
Status bench_prefix(EngineImpl& e, int prefix_len, int follow_len, nlohmann::ordered_json* j);

// Adds "concurrency": [{sequences, aggregate_decode_tok_s, bytes_per_step, read_fraction, ...}].
// steps: decode steps timed per batch size; mem_gbps: the read bandwidth measured in this run.
Status bench_concurrency(EngineImpl& e, const std::vector<int>& sequences, int steps, double mem_gbps,
                         nlohmann::ordered_json* j);

}  // namespace kk

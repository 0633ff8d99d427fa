// presets.h — the model shapes synthetic models are built at: "tiny" (the tiny-k2 fixture's
// dimensions) and "k2" (Kimi-K2-Thinking's). One table for both the checkpoint writer
// (harness/synthetic_checkpoint.cpp) and the bench's in-memory models (harness/synthetic_weights.cpp).
#pragma once
#include <string>
#include "core/status.h"
#include "model/config.h"

namespace kk {

// The preset's architecture, dimensions, routing, rope scaling and token ids; no quantization
// (each caller says how its weights are stored). "k2" has 2 layers (1 dense + 1 MoE) by default.
// An unknown name is an error naming the choices.
Status kimi_k2_preset(const std::string& name, ModelConfig* out);

}  // namespace kk

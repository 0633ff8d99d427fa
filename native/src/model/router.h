// router.h — the DeepSeek-V3 / K2 MoE router (HF DeepseekV3TopkRouter + route_tokens_to_experts).
#pragma once
#include <cstdint>
#include "model/config.h"

namespace kk {

// logits [E] (fp32, x·Wgᵀ) -> top_k expert ids (sorted ascending) and their weights:
//   s = sigmoid(logits); choice = s + bias (bias only chooses, never weighs);
//   groups: score = sum of the top-2 choices in each of n_group groups, keep topk_group groups;
//   pick top_k by choice among kept groups; w = s[picked] / (Σ + 1e-20) if norm_topk_prob;
//   w *= routed_scaling_factor.
void route_token(const ModelConfig& c, const float* logits, const float* bias, int32_t* ids,
                 float* weights);

}  // namespace kk

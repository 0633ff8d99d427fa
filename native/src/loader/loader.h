// loader.h — HF checkpoint directory -> ModelWeights, validated before use.
#pragma once
#include <string>
#include "karakoram/types.h"
#include "model/weights.h"

namespace kk {

// Reads config.json, model.safetensors or the index + shards, validates every header and tensor
// the config implies, converts to the engine's layouts. Errors name the file and the tensor.
Status load_checkpoint(const std::string& dir, const LoaderOptions& opts, const ProgressFn& progress,
                       ModelWeights* out);

// Writes a loaded model back as a checkpoint the loader reads (converted experts in K2-Thinking's
// INT4 compressed-tensors format), so a conversion is paid once.
Status save_checkpoint(const ModelWeights& w, const std::string& dir);

}  // namespace kk

// registry.h — the backends by name: the one place that knows which backends exist, so the CPU
// backend does not depend on the CUDA one and the engine asks for a backend by its name only.
#pragma once
#include <string>
#include "backend/backend.h"
#include "core/status.h"

namespace kk {

// Backend by name ("cpu", or empty for it; "cuda" when the plugin and a device are there).
// Unknown names are an error naming the choices.
Status find_backend(const std::string& name, const Backend** out);

}  // namespace kk

// registry.cpp — backend names to backend tables (backend/registry.h).
#include "backend/registry.h"
#include "backend_cuda/backend_cuda.h"

namespace kk {

Status find_backend(const std::string& name, const Backend** out) {
  if (name.empty() || name == "cpu") { *out = &backend_cpu(); return Status::OK(); }
  if (name == "cuda") return backend_cuda(out);  // the plugin, if it and a GPU are there
  return Status::Error("unknown backend '" + name + "' (choices: cpu, cuda)");
}

}  // namespace kk

// karakoram/backends.h — which compute backends this machine can run, asked before a load so the
// app can choose one and say why (the binding's cudaProbe()). Nothing here aborts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kk {

struct CudaProbe {
  bool usable = false;      // plugin found, right ABI, a driver and at least one device
  int device_count = 0;
  std::string plugin_path;  // the plugin file opened ("" when none was found)
  std::string reason;       // why not usable (the loader's message), or what was found
};

// Opens the CUDA plugin the way the "cuda" backend does (once per process) and reports.
CudaProbe probe_cuda();

// The expert heat map of the "cuda" backend's hybrid MoE: decayed routing counts per MoE layer
// (in the order the layers first ran) and expert, and which experts sit on the GPU. Empty before
// its first MoE call, or when the process never used the backend (the CPU records no routing).
struct ExpertHeat {
  int n_layers = 0, n_experts = 0;
  std::vector<double> counts;    // [layer * n_experts + expert]
  std::vector<uint8_t> on_gpu;   // [layer * n_experts + expert], 1 = resident on the GPU
};
ExpertHeat expert_heat();

}  // namespace kk

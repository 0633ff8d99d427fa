// karakoram/backends.h — which compute backends this machine can run, asked before a load so the
// app can choose one and say why (the binding's cudaProbe()). Nothing here aborts.
#pragma once
#include <string>

namespace kk {

struct CudaProbe {
  bool usable = false;      // plugin found, right ABI, a driver and at least one device
  int device_count = 0;
  std::string plugin_path;  // the plugin file opened ("" when none was found)
  std::string reason;       // why not usable (the loader's message), or what was found
};

// Opens the CUDA plugin the way the "cuda" backend does (once per process) and reports.
CudaProbe probe_cuda();

}  // namespace kk

// plugin_loader.h — finds and opens the CUDA plugin (libkk_cuda.so) at run time.
//
// The engine library never links CUDA. Asking for the "cuda" backend opens the plugin here; when
// there is no plugin file, no CUDA driver or no device, the caller gets a Status that says which,
// and the engine keeps running on the CPU.
#pragma once
#include <string>
#include <vector>
#include "kk_cuda_plugin_abi.h"
#include "core/status.h"

namespace kk::cuda {

// File name of the plugin (CMake target kk_cuda).
constexpr const char* kPluginFileName = "libkk_cuda.so";

struct Plugin {
  const kk_cuda_plugin* api = nullptr;
  std::string path;     // the file that was opened
  int device_count = 0;
};

// Where the plugin is looked for, in order: $KK_CUDA_PLUGIN (a file), the directory of the
// running executable, the directory of the module holding the engine (e.g. the Node addon), then
// the dynamic linker's own search by bare file name.
std::vector<std::string> plugin_candidates();

// Opens the plugin once per process (it is never unloaded: CUDA does not support that cleanly),
// checks the ABI version and that at least one device is usable. Thread-safe.
Status load_plugin(Plugin* out);

}  // namespace kk::cuda

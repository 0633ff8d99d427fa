// probe.cpp — kk::probe_cuda(): the CUDA plugin loader's verdict as data for the app's backend
// choice (karakoram/backends.h).
#include "karakoram/backends.h"
#include "backend_cuda/plugin_loader.h"

namespace kk {

CudaProbe probe_cuda() {
  CudaProbe p;
  cuda::Plugin plugin;
  const Status st = cuda::load_plugin(&plugin);
  if (!st.ok()) {
    p.reason = st.message();
    return p;
  }
  p.usable = true;
  p.device_count = plugin.device_count;
  p.plugin_path = plugin.path;
  p.reason = "CUDA plugin " + plugin.path + ", " + std::to_string(plugin.device_count) +
             (plugin.device_count == 1 ? " device" : " devices");
  return p;
}

}  // namespace kk

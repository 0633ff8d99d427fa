// plugin_loader.cpp — dlopen of the CUDA plugin with honest errors.
#include "backend_cuda/plugin_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <mutex>

namespace kk::cuda {

namespace {

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

std::string real_dir_of(const char* path) {
  char buf[PATH_MAX];
  return realpath(path, buf) ? dir_of(buf) : "";
}

std::string executable_dir() { return real_dir_of("/proc/self/exe"); }

std::string this_module_dir() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&plugin_candidates), &info) == 0 || !info.dli_fname) return "";
  return real_dir_of(info.dli_fname);
}

struct Loaded {
  Status status;
  Plugin plugin;
};

Loaded open_once() {
  Loaded r;
  std::string tried;
  for (const std::string& cand : plugin_candidates()) {
    // A path with a slash must exist as a file; a bare name goes to the dynamic linker.
    if (cand.find('/') != std::string::npos && access(cand.c_str(), R_OK) != 0) {
      tried += "\n  " + cand + ": not found";
      continue;
    }
    void* h = dlopen(cand.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      tried += "\n  " + cand + ": " + (e ? e : "dlopen failed");
      continue;
    }
    auto get = reinterpret_cast<kk_cuda_plugin_get_fn>(dlsym(h, KK_CUDA_PLUGIN_ENTRY));
    if (!get) {
      tried += "\n  " + cand + ": no symbol " KK_CUDA_PLUGIN_ENTRY;
      continue;
    }
    const kk_cuda_plugin* api = get(KK_CUDA_PLUGIN_ABI);
    if (!api || api->abi_version != KK_CUDA_PLUGIN_ABI || api->struct_size != int(sizeof(kk_cuda_plugin))) {
      r.status = Status::Error("CUDA plugin " + cand + " was built for another engine version (ABI mismatch)");
      return r;
    }
    const int n = api->device_count();
    if (n <= 0) {
      r.status = Status::Error("CUDA plugin " + cand + " loaded, but no CUDA device is usable: " +
                               std::string(api->last_error() ? api->last_error() : "no driver or no GPU"));
      return r;
    }
    r.plugin.api = api;
    r.plugin.path = cand;
    r.plugin.device_count = n;
    return r;
  }
  r.status = Status::Error(std::string("CUDA plugin ") + kPluginFileName +
                           " not available (build with cmake -DKK_CUDA=ON, or set KK_CUDA_PLUGIN); tried:" + tried);
  return r;
}

}  // namespace

std::vector<std::string> plugin_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("KK_CUDA_PLUGIN"); env && *env) out.push_back(env);
  for (const std::string& dir : {executable_dir(), this_module_dir()})
    if (!dir.empty()) {
      const std::string p = dir + "/" + kPluginFileName;
      bool seen = false;
      for (const auto& o : out) seen = seen || o == p;
      if (!seen) out.push_back(p);
    }
  out.push_back(kPluginFileName);
  return out;
}

Status load_plugin(Plugin* out) {
  static std::once_flag once;
  static Loaded loaded;
  std::call_once(once, [] { loaded = open_once(); });
  if (!loaded.status.ok()) return loaded.status;
  *out = loaded.plugin;
  return Status::OK();
}

}  // namespace kk::cuda

// device_scratch.h — a device buffer that grows to the largest size asked of it (the CUDA
// backend's and the hybrid MoE's per-op scratch).
#pragma once
#include <cstddef>

#include "kk_cuda_plugin_abi.h"

namespace kk {

struct DeviceScratch {
  void* d = nullptr;
  size_t bytes = 0;
  // At least `need` bytes; null when the device is out of memory (the old buffer is freed).
  void* ensure(const kk_cuda_plugin* api, size_t need) {
    if (bytes < need) {
      api->dev_free(d);
      d = api->dev_alloc(need);
      bytes = d ? need : 0;
    }
    return d;
  }
};

}  // namespace kk

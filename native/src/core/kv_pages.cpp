// kv_pages.cpp — reading rows of the paged latent cache as fp32 (kernels/common/kk_kv.h layout).
#include "core/kv_pages.h"
#include <cstring>

namespace kk {

namespace {
// e4m3 -> fp32 for all 256 codes: one load per value instead of the bit decode.
struct E4m3Table {
  float v[256];
  E4m3Table() {
    for (int i = 0; i < 256; ++i) v[i] = kk_kv_e4m3_to_f32(uint8_t(i));
  }
};
const E4m3Table& e4m3_table() {
  static const E4m3Table t;
  return t;
}
}  // namespace

bool kv_dtype_from_name(const std::string& name, int* dtype) {
  if (name == "fp32") *dtype = KK_KV_F32;
  else if (name == "bf16") *dtype = KK_KV_BF16;
  else if (name == "fp8") *dtype = KK_KV_FP8;
  else return false;
  return true;
}

const char* kv_dtype_name(int dtype) {
  return dtype == KK_KV_F32 ? "fp32" : dtype == KK_KV_BF16 ? "bf16" : dtype == KK_KV_FP8 ? "fp8" : "unknown";
}

void KvPages::read(int64_t t, int64_t off, int64_t n, float* out) const {
  const uint8_t* r = row_ptr(t);
  if (dtype == KK_KV_F32) {
    std::memcpy(out, r + off * int64_t(sizeof(float)), size_t(n) * sizeof(float));
  } else if (dtype == KK_KV_BF16) {
    const uint16_t* h = reinterpret_cast<const uint16_t*>(r) + off;
    for (int64_t i = 0; i < n; ++i) out[i] = kk_kv_bf16_to_f32(h[i]);
  } else {
    // The same product as kk_kv_load (code's value times the row's scale), so every backend
    // reading these bytes sees the same floats.
    const float* tab = e4m3_table().v;
    float scale;
    std::memcpy(&scale, r, sizeof scale);
    const uint8_t* q = r + 4 + off;
    for (int64_t i = 0; i < n; ++i) out[i] = tab[q[i]] * scale;
  }
}

}  // namespace kk

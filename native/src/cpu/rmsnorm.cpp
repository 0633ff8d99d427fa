// rmsnorm.cpp — y = x / sqrt(mean(x²) + eps) · w, per row (the mean in double for stability).
#include <cmath>

#include "cpu/ops.h"

namespace kk::cpu {

void rmsnorm(const float* x, const float* w, int64_t n, int64_t d, float eps, float* y) {
  for (int64_t t = 0; t < n; ++t) {
    const float* xr = x + t * d;
    float* yr = y + t * d;
    double ss = 0.0;
    for (int64_t i = 0; i < d; ++i) ss += double(xr[i]) * double(xr[i]);
    const float inv = float(1.0 / std::sqrt(ss / double(d) + double(eps)));
    for (int64_t i = 0; i < d; ++i) yr[i] = (xr[i] * inv) * w[i];
  }
}

}  // namespace kk::cpu

// matmul.cpp — y = x·Wᵀ for any weight dtype, parallel over row grains of W.
#include <vector>

#include "cpu/ops.h"
#include "cpu/weight_view.h"

namespace kk::cpu {

namespace {
thread_local std::vector<block_q8> tls_xq;
thread_local std::vector<float> tls_scratch;
}  // namespace

void matmul(const OpContext& ctx, const Tensor& W, const float* x, int64_t n, float* y) {
  const Kernels& k = ctx.kernels ? *ctx.kernels : kernels_best();
  const WeightView v = view_of(W);
  if (n <= 0 || v.rows <= 0) return;
  Activations a{x, v.cols, nullptr, ctx.fast};
  if (ctx.fast && is_q4(v.type)) {
    // Fast mode: quantize each activation row once; every weight row reuses it.
    const int64_t nb = v.cols / KK_Q8_GROUP;
    if (int64_t(tls_xq.size()) < n * nb) tls_xq.resize(n * nb);
    for (int64_t t = 0; t < n; ++t) k.quantize_q8(x + t * v.cols, v.cols, tls_xq.data() + t * nb);
    a.xq = tls_xq.data();
  }
  auto body = [&](int64_t r0, int64_t r1, int) {
    matmul_rows(k, v, a, n, y, v.rows, r0, r1, tls_scratch);
  };
  if (ctx.pool) ctx.pool->parallel_for(v.rows, row_grain(v), body);
  else body(0, v.rows, 0);
}

}  // namespace kk::cpu

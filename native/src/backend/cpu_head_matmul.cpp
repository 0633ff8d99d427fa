// cpu_head_matmul.cpp — per-head matmuls in one parallel pass (threads take whole heads), so the
// 2·H small absorbed-MLA matrices cost one dispatch instead of 2·H.
#include "backend/backend.h"
#include "cpu/weight_view.h"

namespace kk {

// Below this many multiply-adds a parallel dispatch costs more than it saves (tiny models).
constexpr int64_t kMinParallelMacs = 1 << 18;

void cpu_head_matmul(const OpContext& ctx, const Tensor& W, const HeadMatmulArgs& a, const float* x,
                     float* y) {
  const cpu::Kernels& k = ctx.kernels ? *ctx.kernels : cpu::kernels_best();
  const int64_t H = W.shape.size() == 3 ? W.shape[0] : 1;
  auto body = [&](int64_t h0, int64_t h1, int) {
    thread_local std::vector<float> scratch;
    for (int64_t h = h0; h < h1; ++h) {
      const cpu::WeightView v = cpu::expert_view(W, h);
      cpu::Activations act{x + h * a.x_hs, a.ldx, nullptr};
      cpu::matmul_rows(k, v, act, a.n, y + h * a.y_hs, a.ldy, 0, v.rows, scratch);
    }
  };
  const int64_t macs = W.numel() * a.n;
  if (ctx.pool && macs >= kMinParallelMacs) ctx.pool->parallel_for(H, 1, body);
  else body(0, H, 0);
}

}  // namespace kk

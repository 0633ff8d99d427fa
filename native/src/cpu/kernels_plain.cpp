// kernels_plain.cpp — portable C++ micro-kernels: the oracle every SIMD variant is tested against.
// Accumulation is fp32; a q4 block contributes scale · Σ_j q_j·x_j (block sum first, then scaled),
// the same association the SIMD variants use.
#include <algorithm>
#include <cmath>

#include "core/tensor.h"
#include "cpu/kernels_variants.h"

namespace kk::cpu {
namespace {

void q4_f32_plain(const block_q4* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                  int64_t ldx, int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  for_row_token_tiles(r0, r1, n, [&](int64_t r, int64_t t0, int64_t tn) {
    const block_q4* row = W + r * nb;
    float acc[kTokenTile] = {0};
    for (int64_t b = 0; b < nb; ++b) {
      float w[KK_Q4_GROUP];
      for (int j = 0; j < 16; ++j) {
        w[j] = float(int(row[b].qs[j] & 0x0F) - 8);
        w[j + 16] = float(int(row[b].qs[j] >> 4) - 8);
      }
      const float scale = bf16_to_f32(row[b].scale_bf16);
      for (int64_t tt = 0; tt < tn; ++tt) {
        const float* xx = x + (t0 + tt) * ldx + b * KK_Q4_GROUP;
        float s = 0.f;
        for (int j = 0; j < KK_Q4_GROUP; ++j) s += w[j] * xx[j];
        acc[tt] += scale * s;
      }
    }
    for (int64_t tt = 0; tt < tn; ++tt) y[(t0 + tt) * ldy + r] = acc[tt];
  });
}

void q4_q8_plain(const block_q4* W, int64_t cols, int64_t r0, int64_t r1, const block_q8* xq,
                 int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  for_row_token_tiles(r0, r1, n, [&](int64_t r, int64_t t0, int64_t tn) {
    const block_q4* row = W + r * nb;
    float acc[kTokenTile] = {0};
    for (int64_t b = 0; b < nb; ++b) {
      const float ws = bf16_to_f32(row[b].scale_bf16);
      for (int64_t tt = 0; tt < tn; ++tt) {
        const block_q8& a = xq[(t0 + tt) * nb + b];
        int isum = 0;  // Σ q·(128·hi + lo)
        for (int j = 0; j < 16; ++j) {
          isum += (int(row[b].qs[j] & 0x0F) - 8) * (int(a.qs[j]) * KK_Q8_LO_SCALE + a.lo[j]);
          isum += (int(row[b].qs[j] >> 4) - 8) * (int(a.qs[j + 16]) * KK_Q8_LO_SCALE + a.lo[j + 16]);
        }
        acc[tt] += float(isum) * (ws * a.d * (1.f / KK_Q8_LO_SCALE));
      }
    }
    for (int64_t tt = 0; tt < tn; ++tt) y[(t0 + tt) * ldy + r] = acc[tt];
  });
}

// Dense weights: y[t][r] = Σ_c widen(W[r][c]) · x[t][c], accumulated by add(acc, w, x).
template <class Wt, class Widen, class Add>
void dense_plain(const Wt* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                 int64_t n, float* y, int64_t ldy, Widen widen, Add add) {
  for_row_token_tiles(r0, r1, n, [&](int64_t r, int64_t t0, int64_t tn) {
    const Wt* row = W + r * cols;
    float acc[kTokenTile] = {0};
    for (int64_t c = 0; c < cols; ++c) {
      const float w = widen(row[c]);
      for (int64_t tt = 0; tt < tn; ++tt) add(acc[tt], w, x[(t0 + tt) * ldx + c]);
    }
    for (int64_t tt = 0; tt < tn; ++tt) y[(t0 + tt) * ldy + r] = acc[tt];
  });
}

inline void add_product(float& acc, float w, float x) { acc += w * x; }

void bf16_f32_plain(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                    int64_t ldx, int64_t n, float* y, int64_t ldy) {
  dense_plain(W, cols, r0, r1, x, ldx, n, y, ldy, bf16_to_f32, add_product);
}

void f32_f32_plain(const float* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                   int64_t ldx, int64_t n, float* y, int64_t ldy) {
  dense_plain(W, cols, r0, r1, x, ldx, n, y, ldy, [](float w) { return w; }, add_product);
}

}  // namespace

void bf16_bf16_plain(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                     int64_t ldx, int64_t n, float* y, int64_t ldy) {
  dense_plain(W, cols, r0, r1, x, ldx, n, y, ldy, bf16_to_f32, [](float& acc, float w, float xv) {
    const float hi = bf16_to_f32(f32_to_bf16(xv)), lo = bf16_to_f32(f32_to_bf16(xv - hi));
    acc += w * hi;
    acc += w * lo;
  });
}

// q4x16: the same per-block math as q4_f32_plain / q4_q8_plain (block sum, then scaled), row r
// of group g reading its nibbles through KK_Q4X16_QS_BYTE / _SHIFT.
namespace {
inline int q4x16_q(const block_q4x16& b, int r, int c) {
  return int((b.qs[KK_Q4X16_QS_BYTE(r, c)] >> KK_Q4X16_QS_SHIFT(c)) & 0x0F) - 8;
}

// y[t·ldy + 16g + r] = Σ_b block_dot(block b of group g, r, b, t), one block at a time.
template <class BlockDot>
void q4x16_plain(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, int64_t n, float* y,
                 int64_t ldy, BlockDot block_dot) {
  const int64_t nb = cols / KK_Q4_GROUP;
  for (int64_t g = g0; g < g1; ++g)
    for (int64_t t = 0; t < n; ++t)
      for (int r = 0; r < KK_Q4X16_ROWS; ++r) {
        float acc = 0.f;
        for (int64_t b = 0; b < nb; ++b) acc += block_dot(W[g * nb + b], r, b, t);
        y[t * ldy + g * KK_Q4X16_ROWS + r] = acc;
      }
}
}  // namespace

void q4x16_f32_plain(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const float* x,
                     int64_t ldx, int64_t n, float* y, int64_t ldy) {
  q4x16_plain(W, cols, g0, g1, n, y, ldy, [&](const block_q4x16& blk, int r, int64_t b, int64_t t) {
    const float* xx = x + t * ldx + b * KK_Q4_GROUP;
    float s = 0.f;
    for (int c = 0; c < KK_Q4_GROUP; ++c) s += float(q4x16_q(blk, r, c)) * xx[c];
    return bf16_to_f32(blk.scale_bf16[r]) * s;
  });
}

void q4x16_q8_plain(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const block_q8* xq,
                    int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  q4x16_plain(W, cols, g0, g1, n, y, ldy, [&](const block_q4x16& blk, int r, int64_t b, int64_t t) {
    const block_q8& a = xq[t * nb + b];
    int isum = 0;  // Σ q·(128·hi + lo)
    for (int c = 0; c < KK_Q4_GROUP; ++c) isum += q4x16_q(blk, r, c) * (int(a.qs[c]) * KK_Q8_LO_SCALE + a.lo[c]);
    return float(isum) * (bf16_to_f32(blk.scale_bf16[r]) * a.d * (1.f / KK_Q8_LO_SCALE));
  });
}

// Shared by every variant so fast-mode activations are bit-identical whichever kernels run:
// d = amax/127, q = round-to-nearest-even(x · (1/d)).
void quantize_q8_plain(const float* x, int64_t cols, block_q8* out) {
  const int64_t nb = cols / KK_Q8_GROUP;
  for (int64_t b = 0; b < nb; ++b) {
    const float* xx = x + b * KK_Q8_GROUP;
    float amax = 0.f;
    for (int j = 0; j < KK_Q8_GROUP; ++j) amax = std::max(amax, std::fabs(xx[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    int sum = 0;
    for (int j = 0; j < KK_Q8_GROUP; ++j) {
      const float v = xx[j] * id;
      const float hi = std::nearbyint(v);
      const int lo = int(std::nearbyint((v - hi) * float(KK_Q8_LO_SCALE)));
      out[b].qs[j] = kk_i8(int(hi));
      out[b].lo[j] = kk_i8(lo);
      sum += int(hi) * KK_Q8_LO_SCALE + lo;
    }
    out[b].d = d;
    out[b].sum = sum;
  }
}

const Kernels& kernels_plain() {
  static const Kernels k = {"plain", q4_f32_plain, q4_q8_plain, bf16_f32_plain, f32_f32_plain,
                            quantize_q8_plain, q4x16_f32_plain, q4x16_q8_plain, false};
  return k;
}

}  // namespace kk::cpu

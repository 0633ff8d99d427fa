// int4.cpp — see int4.h. block_q4 keeps weight j of a block in the low nibble of qs[j] and weight
// j+16 in the high nibble of qs[j]; compressed-tensors keeps weight i in bits 4*(i%8) of word i/8.
#include "loader/int4.h"

#include <cfloat>
#include <cstring>
#include <cmath>
#include "core/tensor.h"

namespace kk {

static_assert(KK_Q4_GROUP == 32 && KK_Q4_GROUP % kInt4PerWord == 0, "repack assumes groups of 32");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "repack assumes a little-endian host");

// Nibble k of a 32-bit word moved to the low half of byte k of a 64-bit word.
static inline uint64_t spread_nibbles(uint32_t w) {
  uint64_t x = w;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
  return x;
}

void int4_packed_to_q4_row(const uint32_t* packed, const uint16_t* scales_bf16, int64_t cols, block_q4* out) {
  const int64_t nb = cols / KK_Q4_GROUP;
  for (int64_t b = 0; b < nb; b++) {
    // A group's 4 words hold weights 0-7, 8-15, 16-23, 24-31; qs[j] pairs weight j (low nibble)
    // with weight j+16 (high nibble), so words 0|2 give qs[0..7] and words 1|3 give qs[8..15].
    const uint32_t* w = packed + b * (KK_Q4_GROUP / kInt4PerWord);
    const uint64_t lo = spread_nibbles(w[0]) | (spread_nibbles(w[2]) << 4);
    const uint64_t hi = spread_nibbles(w[1]) | (spread_nibbles(w[3]) << 4);
    out[b].scale_bf16 = scales_bf16[b];
    std::memcpy(out[b].qs, &lo, 8);      // little-endian: byte k of lo is qs[k]
    std::memcpy(out[b].qs + 8, &hi, 8);
  }
}

static inline uint32_t nibble_at(const block_q4& blk, int i) {
  return i < KK_Q4_GROUP / 2 ? (blk.qs[i] & 0xF) : (blk.qs[i - KK_Q4_GROUP / 2] >> 4);
}

uint32_t q4_packed_word(const block_q4* row, int64_t w) {
  const block_q4& blk = row[w * kInt4PerWord / KK_Q4_GROUP];
  const int first = int((w * kInt4PerWord) % KK_Q4_GROUP);
  uint32_t word = 0;
  for (int k = 0; k < kInt4PerWord; k++) word |= nibble_at(blk, first + k) << (4 * k);
  return word;
}

void q4_row_to_int4_packed(const block_q4* blocks, int64_t cols, uint32_t* packed, uint16_t* scales_bf16) {
  const int64_t nb = cols / KK_Q4_GROUP;
  for (int64_t w = 0; w < cols / kInt4PerWord; w++) packed[w] = q4_packed_word(blocks, w);
  for (int64_t b = 0; b < nb; b++) scales_bf16[b] = blocks[b].scale_bf16;
}

// True when every value of the group is (nearly) an integer multiple of `s`.
// INT4 codes: q in [kInt4QMin, kInt4QMax].
constexpr float kInt4QMin = -8.f, kInt4QMax = 7.f;

// True when every value of the group is within kInt4GridTolerance steps of a code times `s`.
static bool on_grid(const float* g, float s) {
  for (int i = 0; i < KK_Q4_GROUP; i++) {
    const float r = g[i] / s, q = std::nearbyint(r);
    if (std::fabs(r - q) > kInt4GridTolerance || q < kInt4QMin || q > kInt4QMax) return false;
  }
  return true;
}

// How well code * s explains the group: values it reproduces exactly (as an f32 or a bf16 copy
// would store them) count first, then the largest distance decides.
struct GridFit {
  int missed = 0;
  float worst = 0.f;
  bool better_than(const GridFit& o) const { return missed != o.missed ? missed < o.missed : worst < o.worst; }
};
static GridFit grid_fit(const float* g, float s) {
  GridFit f;
  for (int i = 0; i < KK_Q4_GROUP; i++) {
    const float q = std::fmin(std::fmax(std::nearbyint(g[i] / s), kInt4QMin), kInt4QMax);
    const float v = q * s;
    if (g[i] != v && g[i] != bf16_to_f32(f32_to_bf16(v))) f.missed++;
    f.worst = std::fmax(f.worst, std::fabs(g[i] - v));
  }
  return f;
}

// The bf16 scale of a group on a grid: the least-squares scale over its codes, or whichever of its
// bf16 neighbours explains the group better (absmax / |q|max alone can be a step off, because a
// bf16 copy of the weights rounds absmax).
static uint16_t grid_scale(const float* g, float grid) {
  double num = 0, den = 0;
  for (int i = 0; i < KK_Q4_GROUP; i++) {
    const double q = std::nearbyint(g[i] / grid);
    num += q * g[i];
    den += q * q;
  }
  const uint16_t ls = f32_to_bf16(float(num / den));
  uint16_t best = ls;
  GridFit best_fit = grid_fit(g, bf16_to_f32(ls));
  for (uint16_t c : {uint16_t(ls - 1), uint16_t(ls + 1)}) {  // positive finite bf16: +-1 is a neighbour
    if (!(bf16_to_f32(c) > 0.f) || !std::isfinite(bf16_to_f32(c))) continue;
    const GridFit f = grid_fit(g, bf16_to_f32(c));
    if (f.better_than(best_fit)) { best = c; best_fit = f; }
  }
  return best;
}

void quantize_row_q4(const float* x, int64_t cols, block_q4* out) {
  const int64_t nb = cols / KK_Q4_GROUP;
  for (int64_t b = 0; b < nb; b++) {
    const float* g = x + b * KK_Q4_GROUP;
    float amax = 0.f, vmin = 0.f;
    for (int i = 0; i < KK_Q4_GROUP; i++) { amax = std::fmax(amax, std::fabs(g[i])); vmin = std::fmin(vmin, g[i]); }
    uint16_t sb = f32_to_bf16(std::fmax(amax / kInt4CtHalfRange, FLT_EPSILON));
    if (amax > 0.f) {
      if (on_grid(g, amax / float(kInt4GridMax))) {
        sb = grid_scale(g, amax / float(kInt4GridMax));             // K2's +-7 grid
      } else if (vmin == -amax && on_grid(g, amax / -kInt4QMin)) {
        sb = grid_scale(g, amax / -kInt4QMin);                      // a group whose minimum is code -8
      }
    }
    const float s = bf16_to_f32(sb);
    uint8_t nib[KK_Q4_GROUP];
    for (int i = 0; i < KK_Q4_GROUP; i++) {
      float q = std::nearbyint(g[i] / s);  // default rounding mode: half to even, as torch.round
      q = std::fmin(std::fmax(q, kInt4QMin), kInt4QMax);
      nib[i] = uint8_t(int(q) + 8);
    }
    out[b].scale_bf16 = sb;
    for (int j = 0; j < KK_Q4_GROUP / 2; j++) out[b].qs[j] = uint8_t(nib[j] | (nib[j + KK_Q4_GROUP / 2] << 4));
  }
}

void dequantize_row_q4(const block_q4* blocks, int64_t cols, float* out) {
  for (int64_t b = 0; b < cols / KK_Q4_GROUP; b++) {
    const float s = bf16_to_f32(blocks[b].scale_bf16);
    for (int i = 0; i < KK_Q4_GROUP; i++) out[b * KK_Q4_GROUP + i] = (int(nibble_at(blocks[b], i)) - 8) * s;
  }
}

}  // namespace kk

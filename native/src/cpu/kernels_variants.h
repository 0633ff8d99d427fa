// kernels_variants.h — the per-ISA kernel tables (internal to the CPU backend).
// Each returns null when the variant was not compiled in (e.g. a non-x86 build).
#pragma once
#include "cpu/kernels.h"

namespace kk::cpu {

// The one activation quantizer (all variants use it, so fast-mode inputs are identical).
void quantize_q8_plain(const float* x, int64_t cols, block_q8* out);

const Kernels* kernels_avx2();
const Kernels* kernels_avx512();       // AVX-512 F/BW/VL, fp32 FMA; q4_q8 via vpmaddubsw
const Kernels* kernels_avx512_vnni();  // + VNNI vpdpbusd for q4_q8, BF16 vdpbf16ps when present

// Loop shapes every variant shares, so weight rows are reused across tokens (prefill is
// compute-bound) and a row block stays in L2 while token tiles stream past it.
constexpr int64_t kRowBlock = 64;   // rows whose weights stay cache-resident across token tiles
constexpr int64_t kTokenTile = 4;   // tokens computed per pass over one weight row

// Calls body(r, t0, tn) for every row r in [r0, r1) and token tile [t0, t0+tn), ordered so that
// a block of kRowBlock rows is reused by every token tile before moving on.
template <class Body>
inline void for_row_token_tiles(int64_t r0, int64_t r1, int64_t n, Body body) {
  for (int64_t rb = r0; rb < r1; rb += kRowBlock) {
    const int64_t re = rb + kRowBlock < r1 ? rb + kRowBlock : r1;
    for (int64_t t0 = 0; t0 < n; t0 += kTokenTile) {
      const int64_t tn = n - t0 < kTokenTile ? n - t0 : kTokenTile;
      for (int64_t r = rb; r < re; ++r) body(r, t0, tn);
    }
  }
}

}  // namespace kk::cpu

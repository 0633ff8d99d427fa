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

}  // namespace kk::cpu

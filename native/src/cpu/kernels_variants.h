// kernels_variants.h — the per-ISA kernel tables (internal to the CPU backend).
// Each returns null when the variant was not compiled in (e.g. a non-x86 build).
#pragma once
#include "cpu/kernels.h"

namespace kk::cpu {

// The activation quantizer. Every variant's is bit-identical to the plain one, so fast-mode
// inputs are the same whichever kernels run (test_backend_ops checks it).
void quantize_q8_plain(const float* x, int64_t cols, block_q8* out);
void quantize_q8_avx512(const float* x, int64_t cols, block_q8* out);

// The plain q4x16 kernels (variants without their own use them; see Kernels::q4x16_native).
void q4x16_f32_plain(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const float* x,
                     int64_t ldx, int64_t n, float* y, int64_t ldy);
void q4x16_q8_plain(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const block_q8* xq,
                    int64_t n, float* y, int64_t ldy);
// The AVX-512 q4x16 kernels (kernels_q4x16_avx512.cpp); kVnni: vpdpbusd instead of vpmaddubsw.
void q4x16_f32_avx512(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const float* x,
                      int64_t ldx, int64_t n, float* y, int64_t ldy);
void q4x16_q8_avx512(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const block_q8* xq,
                     int64_t n, float* y, int64_t ldy);
void q4x16_q8_avx512_vnni(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1,
                          const block_q8* xq, int64_t n, float* y, int64_t ldy);
// The AMX-INT8 q4x16 fast kernel (kernels_q4x16_amx.cpp): tiles from 8 tokens, VNNI below.
void q4x16_q8_amx(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const block_q8* xq,
                  int64_t n, float* y, int64_t ldy);

// The oracle of Kernels::bf16_fast: each activation as two bf16 digits, hi = bf16(x) and
// lo = bf16(x − hi) (nearest even), each product added in fp32.
void bf16_bf16_plain(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                     int64_t ldx, int64_t n, float* y, int64_t ldy);

// Prefill GEMM for dense weights on packed fp32 panels (gemm_panel_avx512.cpp): any shape;
// the AVX-512 dense kernels call it from kPanelMinTokens tokens (below, the small-batch GEMV
// over T activation rows in kernels_avx512.cpp reads the weights once, streamed).
template <class Wt>
void dense_gemm_panel_avx512(const Wt* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                             int64_t ldx, int64_t n, float* y, int64_t ldy);
constexpr int64_t kPanelMinTokens = 17;

const Kernels* kernels_avx2();
const Kernels* kernels_avx512();       // AVX-512 F/BW/VL, fp32 FMA; q4_q8 via vpmaddubsw
const Kernels* kernels_avx512_vnni();  // + VNNI vpdpbusd for q4_q8, BF16 vdpbf16ps when present
const Kernels* kernels_avx512_vnni_amx();  // + AMX tiles for fast-mode GEMMs (prefill): bf16, q4x16

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

// Batch n > 1 (GEMM): besides the row block, the columns are cut into chunks so the activations
// of one token tile (4 tokens x kColChunk fp32 = 16 KiB) stay in L1 while every row of the row
// block passes over them; otherwise each FMA waits on L2 and tiling over tokens gains nothing.
// on_tile(t0, tn, c0, c1) runs before the rows of each (chunk, tile) (e.g. to prepare
// activations); row_fn(r, t0, tn, c0, c1, out) writes the partial sums over [c0, c1) to out[t];
// the first chunk stores them into y, later chunks add.
constexpr int64_t kColChunk = 1024;

template <class TileFn, class RowFn>
inline void gemm_tiles(int64_t r0, int64_t r1, int64_t n, int64_t cols, float* y, int64_t ldy,
                       TileFn on_tile, RowFn row_fn) {
  for (int64_t rb = r0; rb < r1; rb += kRowBlock) {
    const int64_t re = rb + kRowBlock < r1 ? rb + kRowBlock : r1;
    for (int64_t c0 = 0; c0 < cols; c0 += kColChunk) {
      const int64_t c1 = c0 + kColChunk < cols ? c0 + kColChunk : cols;
      for (int64_t t0 = 0; t0 < n; t0 += kTokenTile) {
        const int64_t tn = n - t0 < kTokenTile ? n - t0 : kTokenTile;
        on_tile(t0, tn, c0, c1);
        for (int64_t r = rb; r < re; ++r) {
          float out[kTokenTile];
          row_fn(r, t0, tn, c0, c1, out);
          for (int64_t t = 0; t < tn; ++t) {
            float& d = y[(t0 + t) * ldy + r];
            d = c0 == 0 ? out[t] : d + out[t];
          }
        }
      }
    }
  }
}
inline void no_tile_setup(int64_t, int64_t, int64_t, int64_t) {}

}  // namespace kk::cpu

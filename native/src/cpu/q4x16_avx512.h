// q4x16_avx512.h — reading block_q4x16 with AVX-512: the chunk loads with their spaced
// prefetches, the high-nibble split, the row scales. Shared by the AVX-512 kernels
// (kernels_q4x16_avx512.cpp) and the AMX ones (kernels_q4x16_amx.cpp); include only from files
// compiled for AVX-512.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "kk_blocks.h"

namespace kk::cpu::q4x16 {

constexpr int kRows = KK_Q4X16_ROWS;
static_assert(kRows == 16, "one row per fp32 lane of a zmm");
static_assert(sizeof(block_q4x16::qs) == 4 * 64, "four 64-byte chunks of nibbles per block");

// Software prefetch 2 KiB ahead on a group's stream (3 KiB measured alike; 1 KiB a little worse),
// one prefetch per 64-byte load (chunk k's line with chunk k's load, the block's fifth line with
// its scales) rather than five at the top of each block: the same requests, spaced out, and the
// memory system streams them faster. Measured (1 thread, K2 gate matrices from DRAM, same run):
// 0.80 of the paced reader with the burst, 0.91-0.95 spaced; a plain load loop shows the same
// (4 prefetches then 4 loads per step 0.83, one then one 0.90). docs/cpu-kernels.md has the rest.
constexpr int kPrefetchBytes = 2048;
static_assert(sizeof(block_q4x16) > 4 * 64 && sizeof(block_q4x16) <= 5 * 64, "four chunk lines and a fifth");
inline const char* ahead(const block_q4x16& b, int line) {
  return reinterpret_cast<const char*>(&b) + kPrefetchBytes + 64 * line;
}
inline void prefetch_line(const block_q4x16& b, int line) { _mm_prefetch(ahead(b, line), _MM_HINT_T0); }

// Chunk k of block b (64 bytes at qs + 64k), with line k of the block kPrefetchBytes ahead
// prefetched in the same breath. One asm statement keeps the pair together: GCC's scheduler
// otherwise regroups the prefetches into a burst, which streams as slowly as before.
inline __m512i load_chunk(const block_q4x16& b, int k) {
  const uint8_t* p = b.qs + 64 * k;
#if defined(__GNUC__)
  __m512i v;
  asm("vmovdqu64 %2, %0\n\tprefetcht0 %1"
      : "=v"(v)
      : "m"(*ahead(b, k)), "m"(*reinterpret_cast<const __m512i*>(p)));
  return v;
#else
  prefetch_line(b, k);
  return _mm512_loadu_si512(p);
#endif
}

// The 16 bf16 scales of a block as fp32 lanes.
inline __m512 block_scales(const block_q4x16& b) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.scale_bf16));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// GFNI: one vgf2p8affineqb moves each byte's bits 4-7 to 0-3 and clears the rest (the matrix's
// byte 7-i selects source bit i+4 for result bit i), replacing a shift and an AND: 33 instead
// of 37 uops per block and stream. Only the kGfni instantiations run it, where cpuid says so.
#define KK_GFNI __attribute__((target("gfni")))
constexpr long long kHighNibbleMatrix = 0x1020408000000000ll;

template <bool kGfni>
KK_GFNI inline __m512i high_nibbles(__m512i v, __m512i nib) {
  if constexpr (kGfni) return _mm512_gf2p8affine_epi64_epi8(v, _mm512_set1_epi64(kHighNibbleMatrix), 0);
  else return _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
}


}  // namespace kk::cpu::q4x16

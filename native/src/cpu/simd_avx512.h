// simd_avx512.h — small AVX-512 helpers shared by the *_avx512.cpp kernel files (which alone are
// compiled with AVX-512 enabled; never include this anywhere else).
#pragma once
#include <immintrin.h>

namespace kk::cpu::avx512 {

// acc + Σ over each 4-byte group of u8(u) · s8(s), per 32-bit lane: vpdpbusd with VNNI, else
// vpmaddubsw + vpmaddwd (exact here: the weights are nibbles, |15·127·2| fits in int16).
template <bool kVnni>
inline __m512i dot_u8s8(__m512i acc, __m512i u, __m512i s) {
  if constexpr (kVnni) {
    return _mm512_dpbusd_epi32(acc, u, s);
  } else {
    const __m512i p16 = _mm512_maddubs_epi16(u, s);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(p16, _mm512_set1_epi16(1)));
  }
}

}  // namespace kk::cpu::avx512

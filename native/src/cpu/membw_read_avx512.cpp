// membw_read_avx512.cpp — streaming readers for the read-bandwidth measurement, written the way
// the GEMV kernels read: 64-byte loads, R streams walked in step, software prefetch
// kReadPrefetchBytes ahead on each. (The portable readers in membw.cpp rely on auto-vectorisation;
// the bf16 GEMV out-read them by 4-10 %, so the bound was too low.) The `paced` reader feeds every
// load to two dependent FMAs, as the bf16 GEMV does: on the dev VMs a loop held to ~8 cycles per
// line per stream streams faster (up to ~24 GB/s per core) than one that only loads (~20), and
// the bound must be the best any loop of ours reaches. Why pacing helps is not understood.
#include <immintrin.h>

// GCC 12 reports false "may be used uninitialized" inside its own AVX-512 intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstddef>
#include <cstdint>

#include "cpu/membw.h"

namespace kk::cpu {
namespace {

constexpr int kReadPrefetchBytes = 2048;
// FMAs each load feeds in the paced reader. Measured (1 thread, 1 stream): 1 FMA reads like the
// load-only loop (~19-20 GB/s), 2 reach 21.5-24, 3 are compute-capped (~18.6).
constexpr int kPaceFmas = 2;

template <int R, bool kPaced>
uint64_t read_streams(const uint8_t* const* s, size_t bytes_each) {
  __m512i acc[R];
  __m512 facc[R];
  const __m512 tiny = _mm512_set1_ps(1e-30f);
  for (int r = 0; r < R; ++r) { acc[r] = _mm512_setzero_si512(); facc[r] = _mm512_setzero_ps(); }
  for (size_t o = 0; o + 64 <= bytes_each; o += 64)
    for (int r = 0; r < R; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(s[r] + o) + kReadPrefetchBytes, _MM_HINT_T0);
      const __m512i v = _mm512_load_si512(s[r] + o);
      if constexpr (kPaced) {
        for (int q = 0; q < kPaceFmas; ++q) facc[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(v), tiny, facc[r]);
      } else {
        acc[r] = _mm512_add_epi64(acc[r], v);
      }
    }
  __m512i t = _mm512_setzero_si512();
  for (int r = 0; r < R; ++r) t = _mm512_add_epi64(t, _mm512_add_epi64(acc[r], _mm512_castps_si512(facc[r])));
  return uint64_t(_mm512_reduce_add_epi64(t));
}

template <bool kPaced>
uint64_t read_streams_n(const uint8_t* const* starts, size_t bytes_each, int streams) {
  switch (streams) {
    case 1: return read_streams<1, kPaced>(starts, bytes_each);
    case 2: return read_streams<2, kPaced>(starts, bytes_each);
    default: return read_streams<4, kPaced>(starts, bytes_each);
  }
}

}  // namespace

uint64_t read_streams_avx512(const uint8_t* const* starts, size_t bytes_each, int streams, bool paced) {
  return paced ? read_streams_n<true>(starts, bytes_each, streams) : read_streams_n<false>(starts, bytes_each, streams);
}

}  // namespace kk::cpu

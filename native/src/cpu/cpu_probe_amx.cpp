// cpu_probe_amx.cpp — a minimal AMX instruction sequence, run under run_guarded() only after
// the OS granted tile-data permission. Compiled with -mamx-tile on x86-64 (see CMakeLists.txt).
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__AMX_TILE__)
#include <immintrin.h>
#endif

namespace kk::cpu {

bool probe_amx_tile() {
#if defined(__x86_64__) && defined(__AMX_TILE__)
  alignas(64) uint8_t cfg[64];
  std::memset(cfg, 0, sizeof cfg);
  cfg[0] = 1;                       // palette 1
  cfg[16] = 64; cfg[17] = 0;        // tile 0: 64 bytes per row
  cfg[48] = 16;                     // tile 0: 16 rows
  _tile_loadconfig(cfg);
  _tile_zero(0);
  alignas(64) uint8_t out[16 * 64];
  std::memset(out, 0xff, sizeof out);
  _tile_stored(0, out, 64);
  _tile_release();
  for (uint8_t v : out) if (v != 0) return false;
  return true;
#else
  return false;
#endif
}

}  // namespace kk::cpu

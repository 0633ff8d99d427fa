// amx_tiles.h — the AMX tile configuration (the 64-byte ldtilecfg operand), shared by the tile
// kernels (kernels_*_amx.cpp, compiled with -mamx-*; include only from those).
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace kk::cpu::amx {

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row, per tile
  uint8_t rows[16] = {};    // rows, per tile

  TileConfig& tile(int t, int n_rows, int bytes_per_row) {
    rows[t] = uint8_t(n_rows);
    colsb[t] = uint16_t(bytes_per_row);
    return *this;
  }
  void load() const { _tile_loadconfig(this); }
};
static_assert(sizeof(TileConfig) == 64, "the ldtilecfg layout");

}  // namespace kk::cpu::amx

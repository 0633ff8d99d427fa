// tensor.cpp — dtype names and sizes, and IEEE half conversions.
#include "core/tensor.h"

#include <cstring>

namespace kk {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::Q4: return "Q4";
    case DType::Q4X16: return "Q4X16";
    case DType::F8_E4M3: return "F8_E4M3";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
  }
  return "?";
}

size_t dtype_row_bytes(DType t, int64_t n) {
  if (n < 0) return 0;
  switch (t) {
    case DType::F32: return size_t(n) * 4;
    case DType::F16: return size_t(n) * 2;
    case DType::BF16: return size_t(n) * 2;
    case DType::Q4:
    case DType::Q4X16: return size_t(n / KK_Q4_GROUP) * sizeof(block_q4);
    case DType::F8_E4M3: return size_t(n);
    case DType::I32: return size_t(n) * 4;
    case DType::I64: return size_t(n) * 8;
  }
  return 0;
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) { mant <<= 1; --exp; }
      mant &= 0x3ff;
      u = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    u = sign | 0x7f800000 | (mant << 13);  // inf / NaN
  } else {
    u = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const uint32_t abs = u & 0x7fffffff;
  if (abs > 0x7f800000) return uint16_t(sign | 0x7e00);  // NaN
  if (abs >= 0x477ff000) return uint16_t(sign | 0x7c00);  // rounds to inf (>= 65520)
  if (abs < 0x38800000) {  // below the smallest normal half (2^-14): subnormal or zero
    if (abs < 0x33000000) return sign;  // < 2^-25 rounds to zero
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // 14 - (e - 127) + 13 - 1 ... places the result in 10 bits
    uint32_t half = m >> (shift);
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t v = abs - ((127 - 15) << 23);  // rebias
  uint32_t half = v >> 13;
  const uint32_t rem = v & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;  // round to nearest even
  return uint16_t(sign | half);
}

}  // namespace kk

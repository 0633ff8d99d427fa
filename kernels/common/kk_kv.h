// kk_kv.h — the latent KV cache's storage precision and its block / row byte layout, defined once.
// The engine's block pool (native/src/engine/block_pool.h) allocates blocks of this layout, the CPU
// attention ops read them (native/src/core/kv_pages.h) and the CUDA mla_decode kernel reads the same
// bytes through a block table (kernels/cuda/mla_decode.cu). Included by C++ and CUDA alike.
//
// A row is one token of one layer: D = kv_lora_rank + rope_dim values [c_kv | k_pe], stored as
//   KK_KV_F32:  float v[D]
//   KK_KV_BF16: kk_u16 v[D]                  bf16, rounded to nearest even from fp32
//   KK_KV_FP8:  float scale; kk_u8 q[D]      e4m3fn (OCP FP8), v[i] = e4m3(q[i]) · scale,
//                                           scale = max_i |v[i]| / KK_KV_FP8_MAX (0 for a zero row)
// padded to a multiple of 4 bytes (so the fp8 scale of the next row stays aligned).
// One scale per row (not per part): e4m3 keeps its 3 mantissa bits from 448 down to 2^-6, a range
// of ~2^15 below the row's maximum, and c_kv and k_pe differ in magnitude by far less than that,
// so a second scale buys nothing.
// A block holds block_tokens tokens of every layer: [layer][token][row], each layer's rows
// contiguous; a sequence is a table of block ids, row t of layer l at
//   base + table[t / block_tokens] · block_stride + (l · block_tokens + t % block_tokens) · row_bytes.
#ifndef KK_KV_H
#define KK_KV_H
#include "kk_blocks.h"

#define KK_KV_F32 0
#define KK_KV_BF16 1
#define KK_KV_FP8 2

// Largest finite e4m3fn value (0x7E = 1.75 · 2^8); 0x7F / 0xFF are NaN, there is no infinity.
#define KK_KV_FP8_MAX 448.0f

#define KK_KV_PAD4(n) (((n) + 3) / 4 * 4)
#define KK_KV_ROW_BYTES(dtype, D)                                        \
  ((dtype) == KK_KV_F32 ? 4 * (D) : (dtype) == KK_KV_BF16 ? KK_KV_PAD4(2 * (D)) \
                                                          : 4 + KK_KV_PAD4(D))

// K2 / DeepSeek-V3: kv_lora_rank 512 + rope 64 = 576 values per row.
KK_STATIC_ASSERT(KK_KV_ROW_BYTES(KK_KV_F32, 576) == 2304, "fp32 K2 row: 576 floats");
KK_STATIC_ASSERT(KK_KV_ROW_BYTES(KK_KV_BF16, 576) == 1152, "bf16 K2 row: 576 halves");
KK_STATIC_ASSERT(KK_KV_ROW_BYTES(KK_KV_FP8, 576) == 580, "fp8 K2 row: scale + 576 bytes");
KK_STATIC_ASSERT(KK_KV_ROW_BYTES(KK_KV_FP8, 81) == 88, "fp8 rows pad to 4 bytes");

#if defined(__CUDACC__)
#define KK_KV_HD __host__ __device__ inline
#else
#define KK_KV_HD static inline
#endif

#if !defined(__METAL_VERSION__)
KK_KV_HD float kk_kv_f32_from_bits(kk_u32 u) {
  union { kk_u32 u; float f; } c;
  c.u = u;
  return c.f;
}
KK_KV_HD kk_u32 kk_kv_bits_from_f32(float f) {
  union { kk_u32 u; float f; } c;
  c.f = f;
  return c.u;
}

KK_KV_HD float kk_kv_bf16_to_f32(kk_u16 h) { return kk_kv_f32_from_bits((kk_u32)h << 16); }

// e4m3fn: sign, 4 exponent bits (bias 7), 3 mantissa bits; exponent 0 is subnormal (m · 2^-9).
KK_KV_HD float kk_kv_e4m3_to_f32(kk_u8 v) {
  const kk_u32 e = (v >> 3) & 15u, m = v & 7u, sign = (kk_u32)(v >> 7) << 31;
  if (e == 15u && m == 7u) return kk_kv_f32_from_bits(0x7FC00000u);
  if (e == 0u) {
    const float r = (float)m * (1.0f / 512.0f);
    return sign ? -r : r;
  }
  return kk_kv_f32_from_bits(sign | ((e + 120u) << 23) | (m << 20));  // 2^(e-7) · (1 + m/8)
}

// Value i of a row in any precision (the fp8 scale is the row's first 4 bytes).
KK_KV_HD float kk_kv_load(const kk_u8* row, int dtype, int i) {
  if (dtype == KK_KV_F32) return ((const float*)row)[i];
  if (dtype == KK_KV_BF16) return kk_kv_bf16_to_f32(((const kk_u16*)row)[i]);
  return kk_kv_e4m3_to_f32(row[4 + i]) * ((const float*)row)[0];
}

#if !defined(__CUDA_ARCH__)
// ---- host-side encoders (the CPU writes every row) ----
KK_KV_HD kk_u16 kk_kv_f32_to_bf16(float f) {
  const kk_u32 u = kk_kv_bits_from_f32(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (kk_u16)((u >> 16) | 0x40u);  // NaN stays NaN
  return (kk_u16)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);                    // round to nearest even
}

// x already divided by the row's scale, so |x| <= KK_KV_FP8_MAX up to rounding; larger saturates.
KK_KV_HD kk_u8 kk_kv_f32_to_e4m3(float x) {
  const kk_u32 u = kk_kv_bits_from_f32(x);
  const kk_u8 sign = (kk_u8)((u >> 24) & 0x80u);
  const kk_u32 a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return (kk_u8)(sign | 0x7Fu);  // NaN
  const float af = kk_kv_f32_from_bits(a);
  if (af < 1.0f / 64.0f) {  // below the smallest normal 2^-6: multiples of 2^-9, nearest even
    const float s = af * 512.0f;     // exact: a power-of-two scaling
    kk_u32 q = (kk_u32)s;
    const float rem = s - (float)q;
    if (rem > 0.5f || (rem == 0.5f && (q & 1u))) ++q;
    return (kk_u8)(sign | q);        // q = 8 is 0x08, the smallest normal
  }
  int e = (int)(a >> 23) - 127;      // -6 .. 8 (larger saturates below)
  kk_u32 m = (a >> 20) & 7u;
  const kk_u32 rem = a & 0xFFFFFu, half = 0x80000u;
  if (rem > half || (rem == half && (m & 1u))) ++m;
  if (m == 8u) { m = 0; ++e; }
  if (e > 8 || (e == 8 && m > 6u)) return (kk_u8)(sign | 0x7Eu);  // saturate at 448
  return (kk_u8)(sign | ((kk_u32)(e + 7) << 3) | m);
}

// Stores D values as one row of `dtype` (row_bytes = KK_KV_ROW_BYTES(dtype, D); padding zeroed).
KK_KV_HD void kk_kv_store_row(const float* v, int D, int dtype, kk_u8* row) {
  int i;
  if (dtype == KK_KV_F32) {
    for (i = 0; i < D; ++i) ((float*)row)[i] = v[i];
  } else if (dtype == KK_KV_BF16) {
    for (i = 0; i < D; ++i) ((kk_u16*)row)[i] = kk_kv_f32_to_bf16(v[i]);
    for (i = 2 * D; i < KK_KV_PAD4(2 * D); ++i) row[i] = 0;
  } else {
    float amax = 0.0f, scale;
    for (i = 0; i < D; ++i) {
      const float a = v[i] < 0 ? -v[i] : v[i];
      if (!(a <= amax)) amax = a;  // a NaN becomes the max: the row reads back as NaN, never silently
    }
    scale = amax / KK_KV_FP8_MAX;
    ((float*)row)[0] = scale;
    // Divided, not multiplied by 1/scale: that reciprocal overflows for a row of tiny values.
    for (i = 0; i < D; ++i) row[4 + i] = scale > 0.0f ? kk_kv_f32_to_e4m3(v[i] / scale) : (kk_u8)0;
    for (i = 4 + D; i < 4 + KK_KV_PAD4(D); ++i) row[i] = 0;
  }
}
#endif  // !__CUDA_ARCH__
#endif  // !__METAL_VERSION__

#endif  // KK_KV_H

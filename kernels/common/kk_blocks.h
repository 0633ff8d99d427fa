// kk_blocks.h — every quantized block layout the engine uses, defined once.
// Included by C++ (CPU backend, loader), CUDA (.cu) and Metal (.metal) sources alike.
// Layout changes here change every backend at once; the static_asserts pin the byte sizes.
#ifndef KK_BLOCKS_H
#define KK_BLOCKS_H

#if defined(__METAL_VERSION__)
  typedef uchar  kk_u8;  typedef char  kk_i8;  typedef ushort kk_u16; typedef uint kk_u32;
  #define KK_STATIC_ASSERT(c, m)
#else
  #include <stdint.h>
  typedef uint8_t kk_u8; typedef int8_t kk_i8; typedef uint16_t kk_u16; typedef uint32_t kk_u32;
  #if defined(__cplusplus)
    #define KK_STATIC_ASSERT(c, m) static_assert(c, m)
  #else
    #define KK_STATIC_ASSERT(c, m) _Static_assert(c, m)
  #endif
#endif

// Group size of the INT4 format Kimi-K2-Thinking ships (compressed-tensors, strategy "group").
#define KK_Q4_GROUP 32
// Group size of the int8 activation blocks used by the fast (VNNI) path.
#define KK_Q8_GROUP 32

// block_q4: 32 consecutive weights of one row, symmetric INT4 with one bf16 scale.
//   weight[j]      = ((qs[j] & 0x0F) - 8) * scale     for j in 0..15
//   weight[j + 16] = ((qs[j] >> 4)   - 8) * scale     for j in 0..15
// Nibbles hold q+8 (offset binary, q in [-8, 7]) exactly as compressed-tensors stores them, so
// conversion from `weight_packed` is a bit shuffle; the low/high split lets SIMD kernels expand a
// block with one mask and one shift. The scale is the checkpoint's bf16 value, bit for bit.
typedef struct {
  kk_u16 scale_bf16;
  kk_u8  qs[KK_Q4_GROUP / 2];
} block_q4;
KK_STATIC_ASSERT(sizeof(block_q4) == 2 + KK_Q4_GROUP / 2, "block_q4 must be 18 bytes, packed");

// block_q4x16: one 32-column block of KK_Q4X16_ROWS consecutive rows of block_q4, interleaved so
// that a 32-bit SIMD lane owns a row (the CPU backend repacks Q4 weights into this at load).
// Batch-1 GEMV over block_q4 spends most of its instructions per block (widen, scale, convert);
// here one integer dot product instruction covers 16 rows x 4 columns and one scale/convert/FMA
// serves 16 blocks, so the kernel stays under the memory bound (see docs/cpu-kernels.md).
//   qs[KK_Q4X16_QS_BYTE(r, c)] >> KK_Q4X16_QS_SHIFT(c) & 0x0F  =  q(r, c) + 8    (r < 16, c < 32)
//   i.e. byte 64k + 4r + i holds column 8k+i (low nibble) and 8k+4+i (high nibble) of row r,
//   so the 64-byte chunk k is 16 lanes x (4 + 4 columns) and the activations of columns
//   8k..8k+3 / 8k+4..8k+7 are each one broadcast dword.
//   scale_bf16[r] = the block_q4 scale of row r, bit for bit.
// The scales follow the nibbles so that loads at byte offsets 1-3 inside the last chunk (the
// exact kernel reads each byte's low nibble that way) stay inside the block.
// A matrix of R rows (R % 16 == 0) stores group g = rows 16g..16g+15 as cols/32 consecutive
// blocks; the bytes of a row range [16a, 16b) are where block_q4 rows would be.
#define KK_Q4X16_ROWS 16
#define KK_Q4X16_QS_BYTE(r, c) (64 * ((c) >> 3) + 4 * (r) + ((c) & 3))
#define KK_Q4X16_QS_SHIFT(c) ((((c) >> 2) & 1) * 4)
typedef struct {
  kk_u8  qs[KK_Q4X16_ROWS * KK_Q4_GROUP / 2];
  kk_u16 scale_bf16[KK_Q4X16_ROWS];
} block_q4x16;
KK_STATIC_ASSERT(sizeof(block_q4x16) == KK_Q4X16_ROWS * sizeof(block_q4),
                 "block_q4x16 must hold exactly 16 block_q4 (288 bytes)");

// block_q8: 32 activations quantized symmetrically to two int8 digits with an fp32 scale (fast
// mode only). One int8 digit (x ≈ qs·d, error up to amax/254) moved the tiny-k2 eval logits by
// ~0.05 and flipped router choices; the second digit makes the activation error amax/32512:
//   x[j] ≈ d · (qs[j] + lo[j] / KK_Q8_LO_SCALE),   qs in [-127, 127], lo in [-64, 64]
//   sum  = Σ (KK_Q8_LO_SCALE·qs[j] + lo[j])   (so the q+8 offset of block_q4 can be removed after
//   an unsigned×signed dot product: Σ (q+8)·a = Σ q·a + 8·Σ a).
// Kernels take two u8×s8 dot products (VNNI) and combine them as 128·hi + lo in int32.
#define KK_Q8_LO_SCALE 128
typedef struct {
  float  d;
  int    sum;
  kk_i8  qs[KK_Q8_GROUP];
  kk_i8  lo[KK_Q8_GROUP];
} block_q8;
KK_STATIC_ASSERT(sizeof(block_q8) == 8 + 2 * KK_Q8_GROUP, "block_q8 must be 72 bytes");

// Block-FP8 (K2-Instruct / DeepSeek-V3): e4m3 weights with one fp32 `weight_scale_inv` per
// 128x128 tile. Only the loader reads this layout; it converts to block_q4 or bf16 at load.
#define KK_FP8_BLOCK 128

#endif // KK_BLOCKS_H

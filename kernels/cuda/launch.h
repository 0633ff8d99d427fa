// launch.h — host-side launchers of the CUDA kernels (defined in kernels/cuda/*.cu), called by the
// plugin table (plugin.cpp). Each validates its arguments, enqueues on `s` and returns the launch
// status; none synchronizes.
#pragma once
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>
#include "kk_args.h"

namespace kk::cuda {

// Rows computed per thread block by the warp-per-row GEMV kernels.
constexpr int kRowsPerBlock = 8;

cudaError_t launch_matmul_q4(const kk_matmul_args& a, const block_q4* W, const float* x, float* y, cudaStream_t s);
cudaError_t launch_matmul_bf16(const kk_matmul_args& a, const uint16_t* W, const float* x, float* y, cudaStream_t s);
cudaError_t launch_matmul_f32(const kk_matmul_args& a, const float* W, const float* x, float* y, cudaStream_t s);

size_t moe_workspace_bytes(const kk_moe_args& a);
cudaError_t launch_moe_q4(const kk_moe_args& a, const block_q4* gate, const block_q4* up, const block_q4* down,
                          const int32_t* slot_of, const float* x, const int32_t* ids, const float* weights,
                          float* y, void* workspace, cudaStream_t s);

cudaError_t launch_rmsnorm(const kk_rmsnorm_args& a, const float* x, const float* w, float* y, cudaStream_t s);
cudaError_t launch_rope(const kk_rope_args& a, float* x, const int32_t* pos, const float* inv_freq, cudaStream_t s);

int mla_decode_splits(const kk_mla_decode_args& a);
size_t mla_decode_workspace_bytes(const kk_mla_decode_args& a, int n_splits);
// cache: this layer's rows in the pool (block 0 plus the layer's offset); block_table: the
// sequence's blocks in token order (kk_mla_decode_args says how a row is found).
cudaError_t launch_mla_decode(const kk_mla_decode_args& a, int n_splits, const float* q_lat, const float* q_pe,
                              const void* cache, const int32_t* block_table, float* out_lat, void* workspace,
                              cudaStream_t s);

cudaError_t launch_router_topk(const kk_router_args& a, const float* logits, const float* bias, int32_t* ids,
                               float* weights, cudaStream_t s);
cudaError_t launch_sample(const kk_sample_args& a, const float* logits, const float* uniform, int32_t* out,
                          cudaStream_t s);

cudaError_t launch_silu_mul(int64_t n, const float* gate, const float* up, float* out, cudaStream_t s);
cudaError_t launch_add_inplace(int64_t n, const float* x, float* y, cudaStream_t s);
cudaError_t launch_embed_bf16(int n_tokens, int hidden, const int32_t* ids, const uint16_t* table, float* out,
                              cudaStream_t s);

}  // namespace kk::cuda

/* kk_cuda_plugin_abi.h — the C ABI between the engine and the CUDA plugin (libkk_cuda.so).
 *
 * The engine never links CUDA: it dlopen()s the plugin at run time (native/src/backend_cuda/plugin_loader.h)
 * and calls through this table, so the app starts and runs on the CPU where there is no CUDA
 * driver, no GPU, or no plugin. Plain C types only; bump KK_CUDA_PLUGIN_ABI on any change.
 *
 * Conventions: pointers named d_* are device memory; every op is asynchronous on `stream`
 * (NULL = the legacy default stream) and returns 0 or a nonzero error code, with the message in
 * last_error() (thread-local). Ops read their shapes from the kk_*_args structs of kk_args.h.
 */
#ifndef KK_CUDA_PLUGIN_H
#define KK_CUDA_PLUGIN_H
#include <stddef.h>
#include <stdint.h>
#include "kk_args.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KK_CUDA_PLUGIN_ABI 2
#define KK_CUDA_PLUGIN_ENTRY "kk_cuda_plugin_get"

typedef struct kk_cuda_stream_s* kk_cuda_stream;
typedef struct kk_cuda_event_s* kk_cuda_event;
typedef struct kk_cuda_graph_s* kk_cuda_graph;

typedef struct {
  char name[256];
  int cc_major, cc_minor;
  int sm_count;
  int64_t total_bytes, free_bytes;
} kk_cuda_device_info;

typedef struct kk_cuda_plugin {
  int abi_version;   /* KK_CUDA_PLUGIN_ABI */
  int struct_size;   /* sizeof(kk_cuda_plugin) as built into the plugin */

  /* ---- device ---- */
  int (*device_count)(void);              /* 0 when no driver or no device (never fails) */
  int (*set_device)(int device);
  int (*device_info)(int device, kk_cuda_device_info* out);
  const char* (*last_error)(void);

  /* ---- memory ---- */
  void* (*dev_alloc)(size_t bytes);       /* NULL on failure */
  void (*dev_free)(void* d_ptr);
  void* (*host_alloc_pinned)(size_t bytes);
  void (*host_free_pinned)(void* ptr);
  int (*memcpy_h2d)(void* d_dst, const void* src, size_t bytes, kk_cuda_stream stream);
  int (*memcpy_d2h)(void* dst, const void* d_src, size_t bytes, kk_cuda_stream stream);
  int (*memcpy_d2d)(void* d_dst, const void* d_src, size_t bytes, kk_cuda_stream stream);
  int (*memset_d)(void* d_dst, int value, size_t bytes, kk_cuda_stream stream);

  /* ---- streams, events, graphs ---- */
  kk_cuda_stream (*stream_create)(void);  /* NULL on failure; non-blocking w.r.t. the default stream */
  void (*stream_destroy)(kk_cuda_stream stream);
  int (*stream_sync)(kk_cuda_stream stream);
  kk_cuda_event (*event_create)(void);
  void (*event_destroy)(kk_cuda_event event);
  int (*event_record)(kk_cuda_event event, kk_cuda_stream stream);
  int (*stream_wait_event)(kk_cuda_stream stream, kk_cuda_event event);
  int (*event_sync)(kk_cuda_event event);
  int (*event_elapsed_ms)(kk_cuda_event start, kk_cuda_event end, float* ms);
  /* CUDA graphs: capture what is enqueued on `stream` between begin and end, replay it. */
  int (*graph_begin)(kk_cuda_stream stream);
  int (*graph_end)(kk_cuda_stream stream, kk_cuda_graph* out);
  int (*graph_launch)(kk_cuda_graph graph, kk_cuda_stream stream);
  void (*graph_destroy)(kk_cuda_graph graph);

  /* ---- ops ---- */
  /* y[t][r] = Σ_c W[r][c] x[t][c]; W block_q4 / bf16 / f32 [rows][cols] row-major. */
  int (*matmul_q4)(const kk_matmul_args* a, const block_q4* d_W, const float* d_x, float* d_y, kk_cuda_stream s);
  int (*matmul_bf16)(const kk_matmul_args* a, const uint16_t* d_W, const float* d_x, float* d_y, kk_cuda_stream s);
  int (*matmul_f32)(const kk_matmul_args* a, const float* d_W, const float* d_x, float* d_y, kk_cuda_stream s);
  /* Grouped INT4 MoE (kk_moe_args); d_workspace of moe_workspace_bytes(a) bytes. */
  size_t (*moe_workspace_bytes)(const kk_moe_args* a);
  int (*moe_q4)(const kk_moe_args* a, const block_q4* d_gate, const block_q4* d_up, const block_q4* d_down,
                const int32_t* d_slot_of, const float* d_x, const int32_t* d_ids, const float* d_weights,
                float* d_y, void* d_workspace, kk_cuda_stream s);
  int (*rmsnorm)(const kk_rmsnorm_args* a, const float* d_x, const float* d_w, float* d_y, kk_cuda_stream s);
  int (*rope)(const kk_rope_args* a, float* d_x, const int32_t* d_pos, const float* d_inv_freq, kk_cuda_stream s);
  /* MLA decode over the latent cache, split over the sequence into n_splits chunks
   * (mla_decode_splits suggests a count); d_workspace of mla_decode_workspace_bytes bytes.
   * d_cache: the layer's rows in a pool of blocks (kk_kv.h layout), d_block_table: the
   * sequence's block ids in token order (see kk_mla_decode_args). */
  int (*mla_decode_splits)(const kk_mla_decode_args* a);
  size_t (*mla_decode_workspace_bytes)(const kk_mla_decode_args* a, int n_splits);
  int (*mla_decode)(const kk_mla_decode_args* a, int n_splits, const float* d_q_lat, const float* d_q_pe,
                    const void* d_cache, const int32_t* d_block_table, float* d_out_lat, void* d_workspace,
                    kk_cuda_stream s);
  int (*router_topk)(const kk_router_args* a, const float* d_logits, const float* d_bias /* may be NULL */,
                     int32_t* d_ids, float* d_weights, kk_cuda_stream s);
  int (*sample)(const kk_sample_args* a, const float* d_logits, const float* d_uniform /* NULL for argmax */,
                int32_t* d_out, kk_cuda_stream s);
  /* Element-wise helpers of the forward. */
  int (*silu_mul)(int64_t n, const float* d_gate, const float* d_up, float* d_out, kk_cuda_stream s);
  int (*add_inplace)(int64_t n, const float* d_x, float* d_y, kk_cuda_stream s); /* y += x */
  int (*embed_bf16)(int n_tokens, int hidden, const int32_t* d_ids, const uint16_t* d_table, float* d_out,
                    kk_cuda_stream s);
} kk_cuda_plugin;

/* The plugin's one exported symbol. Returns NULL when abi_version differs from the plugin's. */
typedef const kk_cuda_plugin* (*kk_cuda_plugin_get_fn)(int abi_version);

#ifdef __cplusplus
}
#endif
#endif /* KK_CUDA_PLUGIN_H */

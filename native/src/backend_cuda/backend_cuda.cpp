// backend_cuda.cpp — backend-table ops on the CUDA plugin, with the CPU op as the fallback.
#include "backend_cuda/backend_cuda.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backend_cuda/cuda_hybrid_moe.h"
#include "backend_cuda/device_scratch.h"
#include "backend_cuda/plugin_loader.h"

namespace kk {

namespace {

// Bytes sampled from a weight to tell a reused host address holding other data from the weight
// that was uploaded from it (engines can be destroyed and others loaded in one process).
constexpr size_t kFingerprintBytes = 64;

struct DeviceWeight {
  void* d = nullptr;
  size_t bytes = 0;
  uint64_t fingerprint = 0;
};

uint64_t fingerprint(const void* p, size_t n) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  uint64_t h = 1469598103934665603ull ^ n;
  auto mix = [&](size_t off) {
    for (size_t i = off; i < off + kFingerprintBytes && i < n; ++i) { h ^= b[i]; h *= 1099511628211ull; }
  };
  mix(0);
  if (n > kFingerprintBytes) mix(n / 2);
  if (n > 2 * kFingerprintBytes) mix(n - kFingerprintBytes);
  return h;
}

class Cuda {
 public:
  explicit Cuda(const kk_cuda_plugin* api) : api_(api), stream_(api->stream_create()), hybrid(api, stream_) {}

  std::mutex mu;

  // Device copy of a weight, uploaded on first use; nullptr when it cannot be had.
  const void* weight(const void* host, size_t bytes) {
    if (rejected_.count(host)) return nullptr;  // did not fit before: do not thrash the cache again
    const uint64_t fp = fingerprint(host, bytes);
    auto it = weights_.find(host);
    if (it != weights_.end()) {
      if (it->second.bytes == bytes && it->second.fingerprint == fp) return it->second.d;
      api_->dev_free(it->second.d);  // the address now holds something else
      weights_.erase(it);
    }
    void* d = api_->dev_alloc(bytes);
    if (!d) {  // full: drop every cached weight (stale ones included) and try once more
      for (auto& kv : weights_) api_->dev_free(kv.second.d);
      weights_.clear();
      d = api_->dev_alloc(bytes);
      if (!d) {  // larger than the device can hold next to the rest: its ops stay on the CPU
        rejected_.insert(host);
        return nullptr;
      }
    }
    if (api_->memcpy_h2d(d, host, bytes, stream_) != 0) {
      api_->dev_free(d);
      return nullptr;
    }
    weights_[host] = {d, bytes, fp};
    return d;
  }

  // Scratch buffer `i` of at least `bytes`.
  void* scratch(int i, size_t bytes) {
    return scratch_[i].ensure(api_, bytes);
  }

  bool up(void* d, const void* h, size_t n) { return api_->memcpy_h2d(d, h, n, stream_) == 0; }
  bool down(void* h, const void* d, size_t n) {
    return api_->memcpy_d2h(h, d, n, stream_) == 0 && api_->stream_sync(stream_) == 0;
  }
  const kk_cuda_plugin* api() const { return api_; }
  kk_cuda_stream stream() const { return stream_; }

  CudaBackendCounts counts;

  // Counts an op run on the device.
  void note_device() { ++counts.device_ops; }
  // Counts an op handed to the CPU; says once which and why.
  void note_fallback(const char* op) {
    ++counts.cpu_fallbacks;
    if (warned_) return;
    warned_ = true;
    std::fprintf(stderr, "karakoram: CUDA %s failed (%s); computing it on the CPU\n", op, api_->last_error());
  }

 private:
  const kk_cuda_plugin* api_;
  kk_cuda_stream stream_ = nullptr;

 public:
  HybridMoe hybrid;  // routed experts: hot on the GPU, cold on the CPU

 private:
  std::unordered_map<const void*, DeviceWeight> weights_;
  std::unordered_set<const void*> rejected_;
  DeviceScratch scratch_[8];
  bool warned_ = false;
};

Cuda* g_cuda = nullptr;

bool cols_ok(const Tensor& W) { return W.type != DType::Q4 || W.cols() % KK_Q4_GROUP == 0; }

bool cuda_supports(Op op, DType t) {
  switch (op) {
    case Op::MatMul: return t == DType::Q4 || t == DType::BF16 || t == DType::F32;
    case Op::Moe: return t == DType::Q4;
    case Op::RmsNorm:
    case Op::MlaDecodeAttention: return true;
    default: return false;  // head_matmul, prefill attention: CPU for now
  }
}

bool try_matmul(Cuda& c, const Tensor& W, const float* x, int64_t n, float* y) {
  if (!cols_ok(W) || W.rows() > INT32_MAX || W.cols() > INT32_MAX || n > INT32_MAX) return false;
  const void* dW = c.weight(W.data, W.nbytes());
  const size_t xb = sizeof(float) * size_t(n) * W.cols(), yb = sizeof(float) * size_t(n) * W.rows();
  float* dx = static_cast<float*>(c.scratch(0, xb));
  float* dy = static_cast<float*>(c.scratch(1, yb));
  if (!dW || !dx || !dy || !c.up(dx, x, xb)) return false;
  const kk_matmul_args a{int(W.rows()), int(W.cols()), int(n)};
  int r = 1;
  if (W.type == DType::Q4) r = c.api()->matmul_q4(&a, static_cast<const block_q4*>(dW), dx, dy, c.stream());
  else if (W.type == DType::BF16) r = c.api()->matmul_bf16(&a, static_cast<const uint16_t*>(dW), dx, dy, c.stream());
  else if (W.type == DType::F32) r = c.api()->matmul_f32(&a, static_cast<const float*>(dW), dx, dy, c.stream());
  return r == 0 && c.down(y, dy, yb);
}

void cuda_matmul(const OpContext& ctx, const Tensor& W, const float* x, int64_t n, float* y) {
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  if (n <= 0) return;
  if (try_matmul(*g_cuda, W, x, n, y)) return g_cuda->note_device();
  g_cuda->note_fallback("matmul");
  backend_cpu().matmul(ctx, W, x, n, y);
}

void cuda_head_matmul(const OpContext& ctx, const Tensor& W, const HeadMatmulArgs& a, const float* x, float* y) {
  backend_cpu().head_matmul(ctx, W, a, x, y);
}

void cuda_moe(const OpContext& ctx, const Tensor& gate, const Tensor& up, const Tensor& down, const float* x,
              int64_t n, int top_k, const int32_t* ids, const float* weights, float* y, const uint8_t* mask) {
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  if (n <= 0) return;
  if (g_cuda->hybrid.run(ctx, gate, up, down, x, n, top_k, ids, weights, y, mask)) return g_cuda->note_device();
  g_cuda->note_fallback("moe");
  backend_cpu().moe(ctx, gate, up, down, x, n, top_k, ids, weights, y, mask);
}

bool try_rmsnorm(Cuda& c, const float* x, const float* w, int64_t n, int64_t d, float eps, float* y) {
  if (n > INT32_MAX || d > INT32_MAX) return false;
  const size_t xb = sizeof(float) * size_t(n) * d;
  const void* dw = c.weight(w, sizeof(float) * size_t(d));
  float* dx = static_cast<float*>(c.scratch(0, xb));
  float* dy = static_cast<float*>(c.scratch(1, xb));
  if (!dw || !dx || !dy || !c.up(dx, x, xb)) return false;
  const kk_rmsnorm_args a{int(n), int(d), eps};
  return c.api()->rmsnorm(&a, dx, static_cast<const float*>(dw), dy, c.stream()) == 0 && c.down(y, dy, xb);
}

void cuda_rmsnorm(const OpContext& ctx, const float* x, const float* w, int64_t n, int64_t d, float eps, float* y) {
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  if (n <= 0) return;
  if (try_rmsnorm(*g_cuda, x, w, n, d, eps, y)) return g_cuda->note_device();
  g_cuda->note_fallback("rmsnorm");
  backend_cpu().rmsnorm(ctx, x, w, n, d, eps, y);
}

// The pool lives in host memory, so the blocks this call reads are copied to a device arena, one
// copy per block (this layer's rows of it, the last block only as far as n_ctx), and the kernel
// reads them through a block table as it would read a device-resident pool.
bool try_mla_decode(Cuda& c, const float* q_lat, const float* q_pe, const KvPages& pages, int64_t n_ctx, int H, int R,
                    int P, float scale, float* out) {
  if (n_ctx > INT32_MAX || pages.row != R + P) return false;
  const int64_t B = pages.block_tokens, nb = (n_ctx + B - 1) / B;
  const int64_t stride = B * pages.row_bytes;  // one layer's rows of a block, packed in the arena
  if (stride > INT32_MAX) return false;
  const kk_mla_decode_args a{H, R, P, int(n_ctx), scale, int(B), int(stride), pages.dtype, int(pages.row_bytes)};
  const int splits = c.api()->mla_decode_splits(&a);
  const size_t qb = sizeof(float) * size_t(H) * R, pb = sizeof(float) * size_t(H) * P,
               cb = size_t(nb) * size_t(stride), tb = sizeof(int32_t) * size_t(nb);
  float* dq = static_cast<float*>(c.scratch(0, qb));
  float* dp = static_cast<float*>(c.scratch(1, pb ? pb : 4));
  uint8_t* dc = static_cast<uint8_t*>(c.scratch(2, cb ? cb : 4));
  float* dout = static_cast<float*>(c.scratch(3, qb));
  int32_t* dt = static_cast<int32_t*>(c.scratch(4, tb ? tb : 4));
  void* ws = c.scratch(5, c.api()->mla_decode_workspace_bytes(&a, splits));
  if (!dq || !dp || !dc || !dout || !dt || !ws) return false;
  std::vector<int32_t> table(static_cast<size_t>(nb));
  for (int64_t b = 0; b < nb; ++b) {
    table[size_t(b)] = int32_t(b);
    const int64_t rows = std::min(B, n_ctx - b * B);
    if (!c.up(dc + size_t(b) * size_t(stride), pages.blocks[b], size_t(rows) * size_t(pages.row_bytes))) return false;
  }
  if (!c.up(dq, q_lat, qb) || (pb && !c.up(dp, q_pe, pb)) || (tb && !c.up(dt, table.data(), tb))) return false;
  return c.api()->mla_decode(&a, splits, dq, dp, dc, dt, dout, ws, c.stream()) == 0 && c.down(out, dout, qb);
}

void cuda_mla_decode(const OpContext& ctx, const float* q_lat, const float* q_pe, const KvPages& cache, int64_t n_ctx,
                     int n_heads, int R, int P, float scale, float* out_lat) {
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  if (try_mla_decode(*g_cuda, q_lat, q_pe, cache, n_ctx, n_heads, R, P, scale, out_lat)) return g_cuda->note_device();
  g_cuda->note_fallback("mla_decode_attention");
  backend_cpu().mla_decode_attention(ctx, q_lat, q_pe, cache, n_ctx, n_heads, R, P, scale, out_lat);
}

void cuda_mla_prefill(const OpContext& ctx, const MlaPrefillArgs& a, const float* q, const float* kv,
                      const KvPages& cache, float* out) {
  backend_cpu().mla_prefill_attention(ctx, a, q, kv, cache, out);
}

}  // namespace

CudaBackendCounts cuda_backend_counts() {
  if (!g_cuda) return {};
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  CudaBackendCounts c = g_cuda->counts;
  const HybridMoeCounts& h = g_cuda->hybrid.counts();
  c.moe_gpu_pairs = h.gpu_pairs;
  c.moe_cpu_pairs = h.cpu_pairs;
  c.expert_uploads = h.uploads;
  c.expert_evictions = h.evictions;
  c.expert_slots = h.slots;
  c.routing_stats_loaded = h.stats_loaded;
  return c;
}

void cuda_backend_set_expert_budget(int64_t bytes) {
  if (!g_cuda) return;
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  g_cuda->hybrid.set_budget(bytes);
}

void cuda_backend_begin_model(int n_moe_layers, const std::string& stats_path, const std::string& model_key) {
  if (!g_cuda) return;
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  g_cuda->hybrid.begin_model(n_moe_layers, stats_path, model_key);
}

void cuda_backend_expert_heat(int* n_layers, int* n_experts, std::vector<double>* counts, std::vector<uint8_t>* on_gpu) {
  *n_layers = *n_experts = 0;
  counts->clear();
  on_gpu->clear();
  if (!g_cuda) return;
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  g_cuda->hybrid.heat(n_layers, n_experts, counts, on_gpu);
}

Status cuda_backend_save_routing_stats() {
  if (!g_cuda) return Status::OK();
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  return g_cuda->hybrid.save_stats();
}

Status cuda_backend_replace_experts(int64_t max_upload_bytes) {
  if (!g_cuda) return Status::OK();
  std::lock_guard<std::mutex> lock(g_cuda->mu);
  placement::ReplaceOptions opts;
  opts.max_upload_bytes = max_upload_bytes;
  return g_cuda->hybrid.replace(opts);
}

Status backend_cuda(const Backend** out) {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    cuda::Plugin p;
    status = cuda::load_plugin(&p);
    if (!status.ok()) return;
    if (p.api->set_device(0) != 0) {
      status = Status::Error(std::string("CUDA device 0 unusable: ") + p.api->last_error());
      return;
    }
    g_cuda = new Cuda(p.api);  // lives as long as the process, like the plugin
    if (!g_cuda->stream()) status = Status::Error(std::string("CUDA stream: ") + p.api->last_error());
  });
  if (!status.ok()) return status;
  static const Backend b = {"cuda", cuda_supports, cuda_matmul, cuda_head_matmul, cuda_moe, cuda_rmsnorm,
                            cuda_mla_decode, cuda_mla_prefill};
  *out = &b;
  return Status::OK();
}

}  // namespace kk

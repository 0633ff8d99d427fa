// linear.cpp — see linear.h.
#include "loader/linear.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "loader/fp8.h"
#include "loader/int4.h"

namespace kk {
namespace {

// Owned buffers are aligned for the widest SIMD loads the kernels use.
constexpr size_t kAlign = 64;
// Repack threads: enough to hide page-fault latency on the mapping, bounded by the hardware.
constexpr unsigned kMaxRepackThreads = 16;

int64_t tiles(int64_t n) { return (n + KK_FP8_BLOCK - 1) / KK_FP8_BLOCK; }

DType plain_dtype(const std::string& d) {
  return d == "BF16" ? DType::BF16 : d == "F16" ? DType::F16 : DType::F32;
}

bool aligned(const void* p, size_t a) { return (reinterpret_cast<uintptr_t>(p) % a) == 0; }

// One row of a Plain source as f32.
void plain_row(const LinearSrc& s, int64_t r, float* out) {
  const uint8_t* base = s.weight.t->data;
  const std::string& d = s.weight.t->dtype;
  for (int64_t c = 0; c < s.in; c++) {
    const int64_t i = r * s.in + c;
    if (d == "F32") { std::memcpy(&out[c], base + 4 * i, 4); continue; }
    uint16_t h;
    std::memcpy(&h, base + 2 * i, 2);
    out[c] = d == "BF16" ? bf16_to_f32(h) : f16_to_f32(h);
  }
}

}  // namespace

std::shared_ptr<void> alloc_owned(size_t bytes) {
  size_t n = (bytes + kAlign - 1) / kAlign * kAlign;
  if (n == 0) n = kAlign;
  void* p = std::aligned_alloc(kAlign, n);
  if (!p) return nullptr;
  std::memset(static_cast<uint8_t*>(p) + bytes, 0, n - bytes);
  return std::shared_ptr<void>(p, std::free);
}

Status resolve_linear(const Checkpoint& ck, const std::string& module, int64_t out, int64_t in, LinearSrc* src) {
  src->module = module;
  src->out = out;
  src->in = in;
  src->weight = src->scale = TensorRef();
  if (ck.int4_module(module)) {
    src->fmt = LinearFormat::Int4;
    if (in % KK_Q4_GROUP)
      return Status::Error(ck.config_path() + ": module '" + module + "' has " + std::to_string(in) +
                           " inputs, not a multiple of the INT4 group size 32");
    KK_RETURN_IF_ERROR(ck.get_checked(module + ".weight_packed", {"I32"}, {out, in / 8}, &src->weight));
    KK_RETURN_IF_ERROR(ck.get_checked(module + ".weight_scale", {"BF16"}, {out, in / KK_Q4_GROUP}, &src->scale));
    TensorRef shape;
    KK_RETURN_IF_ERROR(ck.get_checked(module + ".weight_shape", {"I32", "I64"}, {2}, &shape));
    int64_t v[2];
    for (int i = 0; i < 2; i++) {
      if (shape.t->dtype == "I32") { int32_t x; std::memcpy(&x, shape.t->data + 4 * i, 4); v[i] = x; }
      else std::memcpy(&v[i], shape.t->data + 8 * i, 8);
    }
    if (v[0] != out || v[1] != in)
      return tensor_error(shape, "is " + shape_str({v[0], v[1]}) + ", config.json implies " + shape_str({out, in}));
    return Status::OK();
  }
  KK_RETURN_IF_ERROR(ck.get_checked(module + ".weight", {"BF16", "F16", "F32", "F8_E4M3"}, {out, in}, &src->weight));
  if (src->weight.t->dtype == "F8_E4M3") {
    src->fmt = LinearFormat::Fp8;
    KK_RETURN_IF_ERROR(ck.get_checked(module + ".weight_scale_inv", {"F32"}, {tiles(out), tiles(in)}, &src->scale));
  } else {
    src->fmt = LinearFormat::Plain;
  }
  return Status::OK();
}

static Status check_fp8_scales(const LinearSrc& s, const float* scales) {
  for (int64_t i = 0; i < tiles(s.out) * tiles(s.in); i++)
    if (!std::isfinite(scales[i]))
      return tensor_error(s.scale, "holds a non-finite scale at tile " + std::to_string(i));
  return Status::OK();
}

Status linear_tensor(const LinearSrc& src, Tensor* out) {
  *out = Tensor();
  if (src.fmt == LinearFormat::Int4) {
    out->name = src.module + ".weight";
    out->type = DType::Q4;
    out->shape = {src.out, src.in};
    out->owner = alloc_owned(size_t(src.out) * (src.in / KK_Q4_GROUP) * sizeof(block_q4));
    if (!out->owner) return tensor_error(src.weight, "out of memory");
    out->data = out->owner.get();
    return linear_to_q4(src, static_cast<block_q4*>(out->data));
  }
  const StTensor& t = *src.weight.t;
  out->name = t.name;
  out->shape = {src.out, src.in};
  out->type = src.fmt == LinearFormat::Fp8 ? DType::F8_E4M3 : plain_dtype(t.dtype);
  const size_t esize = safetensors_dtype_size(t.dtype);
  const size_t scale_bytes = src.fmt == LinearFormat::Fp8 ? src.scale.t->nbytes() : 0;
  const bool view_ok = aligned(t.data, esize) && (scale_bytes == 0 || aligned(src.scale.t->data, 4));
  if (view_ok) {
    out->data = const_cast<uint8_t*>(t.data);  // the mapping is PROT_READ: weights are never written
    if (scale_bytes) out->fp8_scale_inv = reinterpret_cast<const float*>(src.scale.t->data);
  } else {
    const size_t wbytes = (t.nbytes() + kAlign - 1) / kAlign * kAlign;
    out->owner = alloc_owned(wbytes + scale_bytes);
    if (!out->owner) return tensor_error(src.weight, "out of memory");
    uint8_t* p = static_cast<uint8_t*>(out->owner.get());
    std::memcpy(p, t.data, t.nbytes());
    out->data = p;
    if (scale_bytes) {
      std::memcpy(p + wbytes, src.scale.t->data, scale_bytes);
      out->fp8_scale_inv = reinterpret_cast<const float*>(p + wbytes);
    }
  }
  if (out->fp8_scale_inv) KK_RETURN_IF_ERROR(check_fp8_scales(src, out->fp8_scale_inv));
  return Status::OK();
}

Status f32_vector(const TensorRef& ref, Tensor* out) {
  *out = Tensor();
  const StTensor& t = *ref.t;
  const int64_t n = t.numel();
  out->name = t.name;
  out->type = DType::F32;
  out->shape = {n};
  out->owner = alloc_owned(size_t(n) * 4);
  if (!out->owner) return tensor_error(ref, "out of memory");
  float* dst = static_cast<float*>(out->owner.get());
  out->data = dst;
  for (int64_t i = 0; i < n; i++) {
    if (t.dtype == "F32") { std::memcpy(&dst[i], t.data + 4 * i, 4); continue; }
    uint16_t h;
    std::memcpy(&h, t.data + 2 * i, 2);
    dst[i] = t.dtype == "BF16" ? bf16_to_f32(h) : f16_to_f32(h);
  }
  for (int64_t i = 0; i < n; i++)
    if (!std::isfinite(dst[i])) return tensor_error(ref, "holds a non-finite value at " + std::to_string(i));
  return Status::OK();
}

Status linear_to_q4(const LinearSrc& src, block_q4* dst) {
  const int64_t nb = src.in / KK_Q4_GROUP;
  if (src.fmt == LinearFormat::Int4) {
    std::vector<uint32_t> words(static_cast<size_t>(src.in / 8));
    std::vector<uint16_t> scales(static_cast<size_t>(nb));
    for (int64_t r = 0; r < src.out; r++) {
      std::memcpy(words.data(), src.weight.t->data + size_t(r) * words.size() * 4, words.size() * 4);
      std::memcpy(scales.data(), src.scale.t->data + size_t(r) * nb * 2, size_t(nb) * 2);
      for (int64_t b = 0; b < nb; b++) {
        const float s = bf16_to_f32(scales[b]);
        if (!std::isfinite(s) || !(s > 0.f))
          return tensor_error(src.scale, "holds an invalid scale " + std::to_string(s) + " at [" + std::to_string(r) +
                                             ", " + std::to_string(b) + "] (scales must be positive and finite)");
      }
      int4_packed_to_q4_row(words.data(), scales.data(), src.in, dst + r * nb);
    }
    return Status::OK();
  }
  if (src.in % KK_Q4_GROUP)
    return tensor_error(src.weight, "has " + std::to_string(src.in) + " columns, not a multiple of the INT4 group size 32");
  std::vector<float> row(static_cast<size_t>(src.in));
  std::vector<float> scales;
  if (src.fmt == LinearFormat::Fp8) {
    scales.resize(size_t(tiles(src.out) * tiles(src.in)));
    std::memcpy(scales.data(), src.scale.t->data, scales.size() * 4);
    KK_RETURN_IF_ERROR(check_fp8_scales(src, scales.data()));
  }
  for (int64_t r = 0; r < src.out; r++) {
    if (src.fmt == LinearFormat::Fp8)
      dequantize_row_fp8(src.weight.t->data + size_t(r) * src.in, r, src.in, scales.data(), row.data());
    else
      plain_row(src, r, row.data());
    for (int64_t c = 0; c < src.in; c++)
      if (!std::isfinite(row[c]))
        return tensor_error(src.weight, "holds a non-finite value at [" + std::to_string(r) + ", " + std::to_string(c) + "]");
    quantize_row_q4(row.data(), src.in, dst + r * nb);
  }
  return Status::OK();
}

Status stack_experts(const std::vector<LinearSrc>& experts, bool to_q4, const std::string& name, Tensor* out) {
  *out = Tensor();
  if (experts.empty()) return Status::Error(name + ": no experts");
  const int64_t E = int64_t(experts.size()), O = experts[0].out, I = experts[0].in;
  bool any_int4 = false;
  for (const auto& e : experts) any_int4 |= e.fmt == LinearFormat::Int4;
  to_q4 = to_q4 || any_int4;
  out->name = name;
  out->shape = {E, O, I};
  size_t per_expert = 0, scale_per_expert = 0;
  if (to_q4) {
    if (I % KK_Q4_GROUP)
      return tensor_error(experts[0].weight, "has " + std::to_string(I) + " columns, not a multiple of the INT4 group size 32");
    out->type = DType::Q4;
    per_expert = size_t(O) * (I / KK_Q4_GROUP) * sizeof(block_q4);
  } else {
    const std::string& d0 = experts[0].weight.t->dtype;
    for (const auto& e : experts)
      if (e.weight.t->dtype != d0)
        return tensor_error(e.weight, "has dtype " + e.weight.t->dtype + " but expert 0 has " + d0 +
                                          " (mixed expert formats need requantize to INT4)");
    out->type = experts[0].fmt == LinearFormat::Fp8 ? DType::F8_E4M3 : plain_dtype(d0);
    per_expert = experts[0].weight.t->nbytes();
    if (experts[0].fmt == LinearFormat::Fp8) scale_per_expert = experts[0].scale.t->nbytes();
  }
  const size_t wbytes = (per_expert * E + kAlign - 1) / kAlign * kAlign;
  out->owner = alloc_owned(wbytes + scale_per_expert * E);
  if (!out->owner) return tensor_error(experts[0].weight, "out of memory for the stacked experts");
  uint8_t* base = static_cast<uint8_t*>(out->owner.get());
  out->data = base;
  if (scale_per_expert) out->fp8_scale_inv = reinterpret_cast<const float*>(base + wbytes);

  std::mutex mu;
  Status first_error;
  std::atomic<int64_t> next{0};
  auto work = [&]() {
    for (int64_t e; (e = next.fetch_add(1)) < E;) {
      const LinearSrc& s = experts[size_t(e)];
      Status st;
      if (to_q4) {
        st = linear_to_q4(s, reinterpret_cast<block_q4*>(base + per_expert * e));
      } else {
        std::memcpy(base + per_expert * e, s.weight.t->data, per_expert);
        if (scale_per_expert) {
          std::memcpy(base + wbytes + scale_per_expert * e, s.scale.t->data, scale_per_expert);
          st = check_fp8_scales(s, reinterpret_cast<const float*>(base + wbytes + scale_per_expert * e));
        }
      }
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = st;
        next.store(E);  // stop the other workers early
      }
    }
  };
  unsigned n = std::min<unsigned>({std::max(1u, std::thread::hardware_concurrency()), kMaxRepackThreads, unsigned(E)});
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < n; i++) {
    try { pool.emplace_back(work); } catch (const std::exception&) { break; }  // fewer threads is fine
  }
  work();
  for (auto& t : pool) t.join();
  if (first_error.ok())  // the stored copies are no longer needed in memory
    for (const auto& e : experts) {
      e.weight.file->release(*e.weight.t);
      if (e.scale.valid()) e.scale.file->release(*e.scale.t);
    }
  return first_error;
}

}  // namespace kk

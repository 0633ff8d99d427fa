// tiny_k2_forward.h — tiny-k2 prompt 0 against the HF reference through an Engine (shared by the
// tests that run the engine's "cuda" backend: on the emulated plugin, and on a GPU in test_cuda_ops).
#pragma once
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "karakoram/engine.h"
#include "loader/safetensors.h"
#include "test_util.h"

namespace tiny_k2_forward {

// Exact-mode logit tolerance of `karakoram eval` (issue 4).
constexpr double kExactLogitTol = 2e-3;

inline std::string tiny_k2_dir() {
  const char* s = std::getenv("KK_SHARED");
  return std::string(s ? s : "../shared") + "/fixtures/tiny-k2";
}
inline bool have_tiny_k2() { struct stat st; return stat((tiny_k2_dir() + "/config.json").c_str(), &st) == 0; }

struct Reference {
  std::vector<int32_t> ids, greedy;
  std::vector<float> logits, greedy_logits;
  int T = 0, V = 0;
};

inline kk::Status load_reference(Reference* r) {
  std::shared_ptr<kk::SafetensorsFile> f;
  KK_RETURN_IF_ERROR(kk::SafetensorsFile::open(tiny_k2_dir() + "/reference.safetensors", &f));
  std::vector<int64_t> shape;
  KK_RETURN_IF_ERROR(f->read_i32("p0.input_ids", &r->ids));
  KK_RETURN_IF_ERROR(f->read_f32("p0.logits", &r->logits, &shape));
  KK_RETURN_IF_ERROR(f->read_i32("p0.greedy", &r->greedy));
  KK_RETURN_IF_ERROR(f->read_f32("p0.greedy_logits", &r->greedy_logits));
  if (shape.size() != 2 || r->greedy.size() < 4) return kk::Status::Error("reference: unexpected shapes");
  r->T = int(r->ids.size());
  r->V = int(shape[1]);
  return kk::Status::OK();
}

inline double max_abs(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

// Prefills prompt 0 on a new sequence; returns the max |logit error| over all positions.
inline double prefill(kk::Engine& e, const Reference& r, kk::SeqId* seq) {
  CHECK(e.new_sequence(seq).ok(), "new_sequence");
  kk::ForwardRequest req;
  req.all_logits = true;
  kk::ForwardResult out;
  const kk::Status st = e.forward(*seq, r.ids.data(), r.T, req, &out);
  CHECK(st.ok(), "prefill: %s", st.message().c_str());
  if (!st.ok() || out.logits.size() != size_t(r.T) * r.V) return INFINITY;
  return max_abs(out.logits.data(), r.logits.data(), out.logits.size());
}

// Feeds greedy[first .. first+steps) (teacher forcing) and compares with greedy_logits[k + 1].
inline double decode(kk::Engine& e, const Reference& r, kk::SeqId seq, int first, int steps) {
  double err = 0;
  for (int k = first; k < first + steps && k + 1 < int(r.greedy.size()); ++k) {
    kk::ForwardResult d;
    const kk::Status st = e.forward(seq, &r.greedy[k], 1, kk::ForwardRequest(), &d);
    CHECK(st.ok(), "decode step %d: %s", k, st.message().c_str());
    if (!st.ok() || d.logits.size() != size_t(r.V)) return INFINITY;
    err = std::max(err, max_abs(d.logits.data(), r.greedy_logits.data() + size_t(k + 1) * r.V, r.V));
  }
  return err;
}

// Loads tiny-k2 on the "cuda" backend.
// gpu_expert_budget_bytes: LoadOptions' VRAM budget for expert slots (0: automatic);
// routing_stats_dir: where the routing statistics are kept ("" none; never the shared fixture).
inline std::unique_ptr<kk::Engine> load_cuda_engine(int64_t gpu_expert_budget_bytes = 0,
                                                   const std::string& routing_stats_dir = "") {
  kk::LoadOptions lo;
  lo.backend = "cuda";
  lo.gpu_expert_budget_bytes = gpu_expert_budget_bytes;
  lo.routing_stats_dir = routing_stats_dir;
  lo.threads = 2;
  std::unique_ptr<kk::Engine> e;
  const kk::Status st = kk::Engine::load(tiny_k2_dir(), lo, nullptr, &e);
  CHECK(st.ok(), "load with backend cuda: %s", st.message().c_str());
  if (e) CHECK(e->info().backend == "cuda", "engine runs on backend '%s'", e->info().backend.c_str());
  return e;
}

}  // namespace tiny_k2_forward

// test_cuda_emu_eval.cpp — the engine's "cuda" backend end to end, on the CPU emulator of the
// CUDA kernels: tiny-k2 is loaded with backend "cuda" through the real run-time loader (dlopen of
// the emulated plugin, KK_CUDA_PLUGIN) and its prefill logits and teacher-forced decode logits
// must match the HF reference at the exact-mode tolerance, like the CPU backend. (Only the first
// prompt and a few decode steps: the emulator runs GPU threads as fibers. The full eval:
// `KK_CUDA_PLUGIN=build/native/libkk_cuda_emu.so kk_eval ... --backend cuda`, docs/cuda.md.)
#include <cmath>
#include <cstdlib>
#include <string>
#include <sys/stat.h>

#include "backend_loader/backend_cuda.h"
#include "karakoram/engine.h"
#include "loader/safetensors.h"
#include "test_util.h"

using namespace kk;

namespace {

// Exact-mode logit tolerance of `karakoram eval` (issue 4).
constexpr double kExactLogitTol = 2e-3;
constexpr int kDecodeSteps = 3;

std::string shared_dir() {
  if (const char* s = std::getenv("KK_SHARED")) return s;
  return "../shared";
}
bool exists(const std::string& p) { struct stat st; return stat(p.c_str(), &st) == 0; }

}  // namespace

int main() {
  const std::string dir = shared_dir() + "/fixtures/tiny-k2";
  if (!exists(dir + "/config.json")) { std::printf("skip: no %s\n", dir.c_str()); return KK_TEST_SKIP; }
  setenv("KK_CUDA_PLUGIN", KK_CUDA_EMU_PLUGIN, 1);

  LoadOptions lo;
  lo.backend = "cuda";
  lo.threads = 2;
  std::unique_ptr<Engine> e;
  Status st = Engine::load(dir, lo, nullptr, &e);
  CHECK(st.ok(), "load with backend cuda: %s", st.message().c_str());
  if (!st.ok()) return kk_test::finish("test_cuda_emu_eval");
  CHECK(e->info().backend == "cuda", "engine runs on backend '%s'", e->info().backend.c_str());

  std::shared_ptr<SafetensorsFile> ref;
  st = SafetensorsFile::open(dir + "/reference.safetensors", &ref);
  CHECK(st.ok(), "reference: %s", st.message().c_str());
  if (!st.ok()) return kk_test::finish("test_cuda_emu_eval");
  std::vector<int32_t> ids_v, greedy_v;
  std::vector<float> want_v, greedy_logits_v;
  std::vector<int64_t> logits_shape;
  st = ref->read_i32("p0.input_ids", &ids_v);
  if (st.ok()) st = ref->read_f32("p0.logits", &want_v, &logits_shape);
  if (st.ok()) st = ref->read_i32("p0.greedy", &greedy_v);
  if (st.ok()) st = ref->read_f32("p0.greedy_logits", &greedy_logits_v);
  CHECK(st.ok() && logits_shape.size() == 2, "reference tensors for prompt 0: %s", st.message().c_str());
  if (!st.ok() || logits_shape.size() != 2) return kk_test::finish("test_cuda_emu_eval");
  const int T = int(ids_v.size()), V = int(logits_shape[1]);
  const int32_t* ids = ids_v.data();

  SeqId s = -1;
  CHECK(e->new_sequence(&s).ok(), "new_sequence");
  ForwardRequest req;
  req.all_logits = true;
  ForwardResult r;
  st = e->forward(s, ids, T, req, &r);
  CHECK(st.ok(), "prefill: %s", st.message().c_str());
  double err = 0;
  const float* want = want_v.data();
  for (size_t i = 0; i < r.logits.size() && i < size_t(T) * V; ++i) err = std::max(err, std::fabs(double(r.logits[i]) - want[i]));
  CHECK(r.logits.size() == size_t(T) * V, "prefill logits size %zu", r.logits.size());
  CHECK(err <= kExactLogitTol, "prefill max |logit err| %.3g > %.3g", err, kExactLogitTol);
  std::printf("prefill %d tokens on the emulated cuda backend: max |logit err| %.3g\n", T, err);

  // Teacher-forced decode through the KV cache (absorbed-MLA decode attention on the device).
  const int32_t* greedy = greedy_v.data();
  const float* greedy_logits = greedy_logits_v.data();
  CHECK(greedy_v.size() > size_t(kDecodeSteps) && greedy_logits_v.size() >= greedy_v.size() * size_t(V),
        "reference greedy continuation too short");
  if (greedy_v.size() <= size_t(kDecodeSteps)) return kk_test::finish("test_cuda_emu_eval");
  double derr = 0;
  ForwardRequest last;
  for (int k = 0; k < kDecodeSteps; ++k) {
    ForwardResult d;
    st = e->forward(s, &greedy[k], 1, last, &d);
    CHECK(st.ok(), "decode step %d: %s", k, st.message().c_str());
    if (!st.ok() || d.logits.size() != size_t(V)) break;
    for (int v = 0; v < V; ++v) derr = std::max(derr, std::fabs(double(d.logits[v]) - greedy_logits[size_t(k + 1) * V + v]));
  }
  CHECK(derr <= kExactLogitTol, "decode max |logit err| %.3g > %.3g", derr, kExactLogitTol);
  std::printf("decode %d steps: max |logit err| %.3g\n", kDecodeSteps, derr);
  // The device really computed: every claimed op ran there, none fell back to the CPU.
  const CudaBackendCounts c = cuda_backend_counts();
  CHECK(c.device_ops > 0 && c.cpu_fallbacks == 0, "device ops %lld, CPU fallbacks %lld", (long long)c.device_ops,
        (long long)c.cpu_fallbacks);
  std::printf("ops on the (emulated) device: %lld, CPU fallbacks: %lld\n", (long long)c.device_ops,
              (long long)c.cpu_fallbacks);
  e->free_sequence(s);
  return kk_test::finish("test_cuda_emu_eval");
}

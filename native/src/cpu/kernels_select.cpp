// kernels_select.cpp — which kernel variants this CPU can run, and the best one.
// A variant is offered only if cpuid says its ISA is present AND a probe (its own kernels run on
// a small random problem, SIGILL caught) reproduces the plain oracle.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "cpu/cpu_features.h"
#include "cpu/kernels_variants.h"

namespace kk::cpu {
namespace {

const Kernels* g_probe_target = nullptr;

// bf16_fast on a problem large enough for whole tiles (32 rows x 64 columns x 32 tokens) plus a
// ragged edge (which its fallback computes with fp32 activations), against the fp32 oracle: two
// bf16 digits keep each activation within 2^-17, so outputs agree to 2^-14 of Σ|w·x|.
bool probe_bf16_fast(const Kernels& k) {
  constexpr int R = 37, C = 64, N = 35;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<uint16_t> w(R * C);
  std::vector<float> x(N * C), y0(N * R), y1(N * R);
  for (auto& v : w) v = f32_to_bf16(u(rng));
  for (auto& v : x) v = u(rng);
  kernels_plain().bf16_f32(w.data(), C, 0, R, x.data(), C, N, y0.data(), R);
  k.bf16_fast(w.data(), C, 0, R, x.data(), C, N, y1.data(), R);
  for (int t = 0; t < N; ++t)
    for (int r = 0; r < R; ++r) {
      float mag = 0.f;
      for (int c = 0; c < C; ++c) mag += std::fabs(bf16_to_f32(w[r * C + c]) * x[t * C + c]);
      if (!(std::fabs(y0[t * R + r] - y1[t * R + r]) <= mag / 16384.f + 1e-6f)) return false;
    }
  return true;
}

// q4x16_q8 on 3 groups x 96 columns with 21 tokens (a full token tile and a partial one, as the
// tile kernels take them) against plain.
bool probe_q4x16_fast(const Kernels& k) {
  constexpr int G = 3, C = 96, N = 21, NB = C / KK_Q4_GROUP;
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<block_q4x16> w(G * NB);
  for (auto& b : w) {
    for (auto& s : b.scale_bf16) s = f32_to_bf16(0.01f + 0.1f * std::fabs(u(rng)));
    for (auto& q : b.qs) q = uint8_t(rng() & 0xff);
  }
  std::vector<float> x(N * C), y0(N * G * 16), y1(N * G * 16);
  for (auto& v : x) v = u(rng);
  std::vector<block_q8> xq(N * NB);
  for (int t = 0; t < N; ++t) kernels_plain().quantize_q8(&x[t * C], C, &xq[t * NB]);
  kernels_plain().q4x16_q8(w.data(), C, 0, G, xq.data(), N, y0.data(), G * 16);
  k.q4x16_q8(w.data(), C, 0, G, xq.data(), N, y1.data(), G * 16);
  for (int i = 0; i < N * G * 16; ++i)
    if (!(std::fabs(y0[i] - y1[i]) <= 1e-4f * (1.f + std::fabs(y0[i])))) return false;
  return true;
}

// Runs every kernel of g_probe_target on a 5x96 problem with 3 tokens and compares with plain.
bool probe_variant() {
  const Kernels& ref = kernels_plain();
  const Kernels& k = *g_probe_target;
  constexpr int R = 5, C = 96, N = 3, NB = C / KK_Q4_GROUP;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<block_q4> wq(R * NB);
  for (auto& b : wq) {
    b.scale_bf16 = f32_to_bf16(0.01f + 0.1f * std::fabs(u(rng)));
    for (auto& q : b.qs) q = uint8_t(rng() & 0xff);
  }
  std::vector<float> wf(R * C), x(N * C), y0(N * R), y1(N * R);
  std::vector<uint16_t> wb(R * C);
  for (int i = 0; i < R * C; ++i) { wf[i] = u(rng); wb[i] = f32_to_bf16(u(rng)); }
  for (auto& v : x) v = u(rng);
  std::vector<block_q8> xq0(N * NB), xq1(N * NB);
  for (int t = 0; t < N; ++t) {
    ref.quantize_q8(&x[t * C], C, &xq0[t * NB]);
    k.quantize_q8(&x[t * C], C, &xq1[t * NB]);
  }
  if (std::memcmp(xq0.data(), xq1.data(), xq0.size() * sizeof(block_q8)) != 0) return false;
  auto close = [&](float tol) {
    for (int i = 0; i < N * R; ++i)
      if (!(std::fabs(y0[i] - y1[i]) <= tol * (1.f + std::fabs(y0[i])))) return false;
    return true;
  };
  ref.q4_f32(wq.data(), C, 0, R, x.data(), C, N, y0.data(), R);
  k.q4_f32(wq.data(), C, 0, R, x.data(), C, N, y1.data(), R);
  if (!close(1e-4f)) return false;
  ref.q4_q8(wq.data(), C, 0, R, xq0.data(), N, y0.data(), R);
  k.q4_q8(wq.data(), C, 0, R, xq0.data(), N, y1.data(), R);
  if (!close(1e-4f)) return false;
  ref.bf16_f32(wb.data(), C, 0, R, x.data(), C, N, y0.data(), R);
  k.bf16_f32(wb.data(), C, 0, R, x.data(), C, N, y1.data(), R);
  if (!close(1e-4f)) return false;
  ref.f32_f32(wf.data(), C, 0, R, x.data(), C, N, y0.data(), R);
  k.f32_f32(wf.data(), C, 0, R, x.data(), C, N, y1.data(), R);
  if (!close(1e-4f)) return false;
  if (k.q4x16_native && !probe_q4x16_fast(k)) return false;
  return !k.bf16_fast || probe_bf16_fast(k);
}

struct Detected {
  std::vector<const Kernels*> available;
  std::vector<std::string> probe_failed;  // ISA present, probe did not reproduce plain
};

Detected detect() {
  Detected d;
  d.available = {&kernels_plain()};
  const CpuFeatures& f = cpu_features();
  struct Candidate { const Kernels* k; bool isa; };
  const bool avx512 = f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.fma && f.f16c;
  const Candidate candidates[] = {
      {kernels_avx2(), f.avx2 && f.fma && f.f16c},
      {kernels_avx512(), avx512},
      {kernels_avx512_vnni(), avx512 && f.avx512_vnni},
      {kernels_avx512_vnni_amx(),
       avx512 && f.avx512_vnni && f.avx512_bf16 && f.gfni && f.amx_usable && f.amx_bf16 && f.amx_int8},
  };
  for (const Candidate& c : candidates) {
    if (!c.k || !c.isa) continue;
    g_probe_target = c.k;
    if (run_guarded(probe_variant)) d.available.push_back(c.k);
    else d.probe_failed.push_back(c.k->name);
  }
  return d;
}

const Detected& detected() {
  static const Detected d = detect();
  return d;
}

}  // namespace

std::vector<const Kernels*> kernels_available() { return detected().available; }

std::vector<std::string> kernels_probe_failures() { return detected().probe_failed; }

const Kernels& kernels_best() {
  static const Kernels* best = [] {
    const auto v = kernels_available();
    const char* want = std::getenv("KK_CPU_KERNELS");
    if (want && *want) {
      for (const Kernels* k : v)
        if (std::strcmp(k->name, want) == 0) return k;
    }
    return v.back();  // candidates are listed slowest to fastest
  }();
  return *best;
}

}  // namespace kk::cpu

// cpu_features.h — what this CPU (and OS) lets us run, from cpuid + xgetbv, and guarded probes.
#pragma once
#include <string>

namespace kk::cpu {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_vnni = false, avx512_bf16 = false, avx512_vbmi = false, gfni = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;
  // AMX is usable only when the kernel granted the tile-data permission AND a probe that runs
  // an AMX instruction survived (some VMs advertise AMX in cpuid but trap with SIGILL).
  bool amx_usable = false;
  std::string describe() const;  // "avx2 fma f16c avx512f ... amx(usable|trapped|no-perm)"
};

// Detected once (thread-safe); the AMX probe runs at most once per process.
const CpuFeatures& cpu_features();

// Runs fn() with SIGILL caught: returns false if it trapped. Used to probe every variant once
// before it is offered. Not for hot paths (changes the process-wide SIGILL handler briefly).
bool run_guarded(bool (*fn)());

}  // namespace kk::cpu

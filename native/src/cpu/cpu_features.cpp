// cpu_features.cpp — cpuid/xgetbv detection and the SIGILL-guarded probe.
#include "cpu/cpu_features.h"

#include <csetjmp>
#include <csignal>
#include <mutex>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace kk::cpu {

// Defined in cpu_probe_amx.cpp (compiled with -mamx-tile): configures a tile, zeroes it,
// releases it. Returns true if it completed.
bool probe_amx_tile();

namespace {

#if defined(__x86_64__)
uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

// Linux asks a process to opt in before it may use AMX tile data (arch/x86/include/uapi/asm/prctl.h).
constexpr int kArchReqXcompPerm = 0x1023;
constexpr int kXfeatureXtiledata = 18;
#endif

sigjmp_buf g_probe_jmp;
void on_sigill(int) { siglongjmp(g_probe_jmp, 1); }
std::mutex g_probe_mu;

std::string g_amx_state = "no";

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  const bool avx = c & (1u << 28);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;            // XMM + YMM state
  const bool os_avx512 = (xcr0 & 0xe6) == 0xe6;       // + opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & (3ull << 17)) == (3ull << 17);  // XTILECFG + XTILEDATA
  if (!(avx && os_avx)) { f.fma = f.f16c = false; return f; }
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = b & (1u << 5);
    if (os_avx512) {
      f.avx512f = b & (1u << 16);
      f.avx512dq = b & (1u << 17);
      f.avx512bw = b & (1u << 30);
      f.avx512vl = b & (1u << 31);
      f.avx512_vnni = c & (1u << 11);
      f.avx512_vbmi = c & (1u << 1);
      f.gfni = c & (1u << 8);  // used only with AVX-512 registers here
    }
    if (os_amx) {
      f.amx_bf16 = d & (1u << 22);
      f.amx_tile = d & (1u << 24);
      f.amx_int8 = d & (1u << 25);
    }
    const unsigned max_sub = a;
    if (max_sub >= 1 && os_avx512) {
      __cpuid_count(7, 1, a, b, c, d);
      f.avx512_bf16 = a & (1u << 5);
    }
  }
  if (f.amx_tile) {
    if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
      g_amx_state = "no-perm";
    } else if (!run_guarded(probe_amx_tile)) {
      g_amx_state = "trapped";
    } else {
      f.amx_usable = true;
      g_amx_state = "usable";
    }
  }
#endif
  return f;
}

}  // namespace

bool run_guarded(bool (*fn)()) {
  std::lock_guard<std::mutex> lock(g_probe_mu);
  struct sigaction sa = {}, old = {};
  sa.sa_handler = on_sigill;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGILL, &sa, &old) != 0) return false;
  volatile bool ok = false;  // survives the longjmp
  if (sigsetjmp(g_probe_jmp, 1) == 0) ok = fn();
  sigaction(SIGILL, &old, nullptr);
  return ok;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::string CpuFeatures::describe() const {
  std::string s;
  auto add = [&](bool on, const char* name) { if (on) { if (!s.empty()) s += ' '; s += name; } };
  add(avx2, "avx2"); add(fma, "fma"); add(f16c, "f16c");
  add(avx512f, "avx512f"); add(avx512bw, "avx512bw"); add(avx512vl, "avx512vl");
  add(avx512dq, "avx512dq"); add(avx512_vnni, "avx512_vnni"); add(avx512_vbmi, "avx512_vbmi"); add(gfni, "gfni"); add(avx512_bf16, "avx512_bf16");
  if (amx_tile) { if (!s.empty()) s += ' '; s += "amx(" + g_amx_state + ")"; }
  return s.empty() ? "baseline" : s;
}

}  // namespace kk::cpu

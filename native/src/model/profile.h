// profile.h — wall time per named stage of the forward (for `bench`'s per-op table).
#pragma once
#include <chrono>
#include <map>
#include <string>

namespace kk {

struct Profile {
  std::map<std::string, double> ms;  // stage -> accumulated milliseconds
  void add(const std::string& stage, double v) { ms[stage] += v; }
};

// Times a scope into `p` (does nothing when p is null).
class ProfileScope {
 public:
  ProfileScope(Profile* p, const char* stage) : p_(p), stage_(stage) {
    if (p_) t0_ = std::chrono::steady_clock::now();
  }
  ~ProfileScope() { stop(); }
  // Ends the scope early (idempotent).
  void stop() {
    if (p_) p_->add(stage_, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count());
    p_ = nullptr;
  }
 private:
  Profile* p_;
  const char* stage_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace kk

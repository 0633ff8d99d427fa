// cli_args.h — the little flag parser the stand-alone tools share (--name value, --flag).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

struct KkArgs {
  std::map<std::string, std::string> v;
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) { std::fprintf(stderr, "unexpected argument '%s'\n", argv[i]); return false; }
      a = a.substr(2);
      const auto eq = a.find('=');
      if (eq != std::string::npos) v[a.substr(0, eq)] = a.substr(eq + 1);
      else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) v[a] = argv[++i];
      else v[a] = "1";
    }
    return true;
  }
  bool has(const std::string& k) const { return v.count(k) > 0; }
  std::string str(const std::string& k, const std::string& def = "") const { auto it = v.find(k); return it == v.end() ? def : it->second; }
  long num(const std::string& k, long def) const { return has(k) ? std::strtol(str(k).c_str(), nullptr, 10) : def; }
  double real(const std::string& k, double def) const { return has(k) ? std::strtod(str(k).c_str(), nullptr) : def; }
};

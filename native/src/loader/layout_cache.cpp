// layout_cache.cpp — see layout_cache.h.
#include "loader/layout_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <vector>

namespace kk {
namespace {

constexpr char kMagic[8] = {'K', 'K', 'Q', '4', 'X', '1', '6', '\0'};
constexpr size_t kHeaderBytes = 4096;  // the data starts page aligned, as the kernels like it
// Pages hashed to catch a truncated, overwritten or partly written file without reading the
// whole tensor (which would cost what the cache saves): evenly spaced ones plus the last.
constexpr int kSampledPages = 16;
constexpr size_t kPage = 4096;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  int64_t shape[3];
  uint64_t data_bytes;
  uint64_t sample_hash;
  uint64_t header_hash;  // of every field above
};
static_assert(sizeof(Header) <= kHeaderBytes, "header fits its page");

uint64_t fnv1a(const void* p, size_t n, uint64_t h = 1469598103934665603ull) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) { h ^= b[i]; h *= 1099511628211ull; }
  return h;
}

uint64_t sample_hash(const uint8_t* data, uint64_t bytes) {
  uint64_t h = fnv1a(&bytes, sizeof(bytes));
  auto page = [&](uint64_t off) { h = fnv1a(data + off, size_t(std::min<uint64_t>(kPage, bytes - off)), h); };
  if (bytes == 0) return h;
  for (int i = 0; i < kSampledPages; ++i) page(bytes / kSampledPages * uint64_t(i) / kPage * kPage);
  page(bytes > kPage ? bytes - kPage : 0);
  return h;
}

uint64_t header_hash(const Header& hd) { return fnv1a(&hd, offsetof(Header, header_hash)); }

// mkdir -p
bool make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/') {
      const std::string d = dir.substr(0, i);
      if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
  return true;
}

}  // namespace

std::string layout_cache_folder(const std::string& cache_dir, const std::string& checkpoint_dir, bool requantize) {
  DIR* d = opendir(checkpoint_dir.c_str());
  if (!d) return "";
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    const bool st = n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0;
    if (st || n == "config.json") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  const uint32_t version = kLayoutCacheVersion;
  uint64_t h = fnv1a(&version, sizeof(version));
  h = fnv1a(&requantize, sizeof(requantize), h);
  for (const std::string& n : names) {
    struct stat s;
    if (stat((checkpoint_dir + "/" + n).c_str(), &s) != 0) return "";
    const int64_t fields[3] = {int64_t(s.st_size), int64_t(s.st_mtim.tv_sec), int64_t(s.st_mtim.tv_nsec)};
    h = fnv1a(n.data(), n.size() + 1, h);
    h = fnv1a(fields, sizeof(fields), h);
  }
  char key[17];
  std::snprintf(key, sizeof(key), "%016llx", static_cast<unsigned long long>(h));
  return cache_dir + "/" + key;
}

bool layout_cache_map(const std::string& path, const std::string& name, const std::vector<int64_t>& shape,
                      Tensor* out, std::shared_ptr<void>* mapping, std::string* why) {
  auto fail = [&](const std::string& w) { if (why) *why = path + ": " + w; return false; };
  if (shape.size() != 3) return fail("not a stacked [E, rows, cols] shape");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  struct stat st;
  Header hd;
  const bool got = fstat(fd, &st) == 0 && pread(fd, &hd, sizeof(hd), 0) == ssize_t(sizeof(hd));
  if (!got) { close(fd); return fail("cannot read the header"); }
  Tensor t;
  t.name = name;
  t.type = DType::Q4X16;
  t.shape = shape;
  const uint64_t want_bytes = t.nbytes();
  std::string bad;
  if (std::memcmp(hd.magic, kMagic, sizeof(kMagic)) != 0) bad = "not a layout cache file";
  else if (hd.header_hash != header_hash(hd)) bad = "header checksum mismatch";
  else if (hd.version != kLayoutCacheVersion) bad = "layout version " + std::to_string(hd.version);
  else if (hd.header_bytes != kHeaderBytes || hd.shape[0] != shape[0] || hd.shape[1] != shape[1] ||
           hd.shape[2] != shape[2] || hd.data_bytes != want_bytes)
    bad = "another shape";
  else if (uint64_t(st.st_size) != kHeaderBytes + want_bytes) bad = "size " + std::to_string(st.st_size);
  if (!bad.empty()) { close(fd); return fail(bad); }
  void* addr = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (addr == MAP_FAILED) return fail(std::string("mmap: ") + std::strerror(errno));
  const size_t len = size_t(st.st_size);
  std::shared_ptr<void> map(addr, [len](void* p) { munmap(p, len); });
  // Start reading the file in the background: without it the first decode steps fault the
  // experts in 4 KiB at a time from disk (K2 slice, 2 threads: 0.3 tok/s on the first 2 tokens
  // after a cold second load, against 4.2 with the experts in private memory). Advice only.
  (void)madvise(addr, len, MADV_WILLNEED);
  uint8_t* data = static_cast<uint8_t*>(addr) + kHeaderBytes;
  if (sample_hash(data, want_bytes) != hd.sample_hash) return fail("data checksum mismatch");
  t.data = data;  // a mapped view: no owner (the mapping lives in ModelWeights::mappings)
  *out = std::move(t);
  *mapping = std::move(map);
  return true;
}

Status layout_cache_write(const std::string& path, const Tensor& t) {
  if (t.type != DType::Q4X16 || t.shape.size() != 3 || !t.data) return Status::Error(path + ": not a stacked Q4X16 tensor");
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && !make_dirs(path.substr(0, slash)))
    return Status::Error(path + ": cannot create the folder: " + std::strerror(errno));
  std::vector<uint8_t> head(kHeaderBytes, 0);
  Header hd{};
  std::memcpy(hd.magic, kMagic, sizeof(kMagic));
  hd.version = kLayoutCacheVersion;
  hd.header_bytes = kHeaderBytes;
  for (int i = 0; i < 3; ++i) hd.shape[i] = t.shape[i];
  hd.data_bytes = t.nbytes();
  hd.sample_hash = sample_hash(static_cast<const uint8_t*>(t.data), hd.data_bytes);
  hd.header_hash = header_hash(hd);
  std::memcpy(head.data(), &hd, sizeof(hd));
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error(tmp + ": " + std::strerror(errno));
  auto write_all = [&](const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
      const ssize_t w = write(fd, b, std::min<size_t>(n, size_t(1) << 30));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      b += w;
      n -= size_t(w);
    }
    return true;
  };
  const bool ok = write_all(head.data(), head.size()) && write_all(t.data, hd.data_bytes);
  const int err = errno;
  if (close(fd) != 0 || !ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::Error(path + ": cannot write the layout cache: " + std::strerror(ok ? errno : err));
  }
  return Status::OK();
}

}  // namespace kk

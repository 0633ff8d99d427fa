// safetensors.cpp — see safetensors.h. The reader trusts nothing in the file: every offset and
// size is checked before a pointer into the mapping is formed.
#include "loader/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace kk {
namespace {

using json = nlohmann::json;

// Shapes beyond this many dimensions are not something any checkpoint writes.
constexpr size_t kMaxRank = 8;
// Writer: bytes generated per fill() call, bounded so huge tensors stream through a small buffer.
constexpr size_t kWriteChunkBytes = 64ull << 20;

struct Mapping {
  void* addr = nullptr;
  size_t len = 0;
  ~Mapping() { if (addr && len) munmap(addr, len); }
};

Status err(const std::string& path, const std::string& what) {
  return Status::Error(path + ": " + what);
}
Status terr(const std::string& path, const std::string& tensor, const std::string& what) {
  return Status::Error(path + ": tensor '" + tensor + "': " + what);
}

}  // namespace

size_t safetensors_dtype_size(const std::string& d) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
      {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U64", 8},     {"U32", 4},
      {"U16", 2}, {"U8", 1},  {"BOOL", 1}};
  auto it = sizes.find(d);
  return it == sizes.end() ? 0 : it->second;
}

SafetensorsFile::~SafetensorsFile() = default;

Status SafetensorsFile::open(const std::string& path, std::shared_ptr<SafetensorsFile>* out) {
  try {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) { ::close(fd); return err(path, "cannot stat"); }
    uint64_t file_size = uint64_t(st.st_size);
    if (file_size < 8) { ::close(fd); return err(path, "truncated: " + std::to_string(file_size) + " bytes, a safetensors file needs at least 8"); }
    void* addr = mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (addr == MAP_FAILED) return err(path, std::string("mmap failed: ") + std::strerror(errno));
    auto mapping = std::make_shared<Mapping>();
    mapping->addr = addr;
    mapping->len = file_size;
    std::shared_ptr<SafetensorsFile> f;
    KK_RETURN_IF_ERROR(parse(path, static_cast<const uint8_t*>(addr), file_size, &f));
    f->mapping_ = mapping;
    *out = std::move(f);
    return Status::OK();
  } catch (const std::exception& e) {
    return err(path, std::string("cannot read: ") + e.what());
  }
}

Status SafetensorsFile::parse(const std::string& path, const uint8_t* base, uint64_t file_size,
                              std::shared_ptr<SafetensorsFile>* out) {
  try {
    if (file_size < 8) return err(path, "truncated: " + std::to_string(file_size) + " bytes, a safetensors file needs at least 8");
    uint64_t header_len = 0;
    for (int i = 0; i < 8; i++) header_len |= uint64_t(base[i]) << (8 * i);
    if (header_len > kSafetensorsMaxHeaderBytes)
      return err(path, "header length " + std::to_string(header_len) + " exceeds the 100 MB limit (corrupt file?)");
    if (8 + header_len > file_size)
      return err(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                           std::to_string(file_size) + " bytes): truncated or corrupt");
    const char* hdr = reinterpret_cast<const char*>(base + 8);
    json h = json::parse(hdr, hdr + header_len, nullptr, /*allow_exceptions=*/false);
    if (h.is_discarded()) return err(path, "header is not valid JSON");
    if (!h.is_object()) return err(path, "header is not a JSON object");

    std::shared_ptr<SafetensorsFile> f(new SafetensorsFile());
    f->path_ = path;
    const uint64_t data_size = file_size - 8 - header_len;
    const uint8_t* data_base = base + 8 + header_len;

    for (auto it = h.begin(); it != h.end(); ++it) {
      const std::string& name = it.key();
      const json& v = it.value();
      if (name == "__metadata__") {
        if (!v.is_object()) return err(path, "__metadata__ is not an object");
        for (auto m = v.begin(); m != v.end(); ++m)
          f->metadata_[m.key()] = m.value().is_string() ? m.value().get<std::string>() : m.value().dump();
        continue;
      }
      if (!v.is_object()) return terr(path, name, "header entry is not an object");
      StTensor t;
      t.name = name;
      auto d = v.find("dtype");
      if (d == v.end() || !d->is_string()) return terr(path, name, "missing dtype");
      t.dtype = d->get<std::string>();
      size_t esize = safetensors_dtype_size(t.dtype);
      if (esize == 0) return terr(path, name, "unknown dtype '" + t.dtype + "'");
      auto s = v.find("shape");
      if (s == v.end() || !s->is_array()) return terr(path, name, "missing shape");
      if (s->size() > kMaxRank) return terr(path, name, "shape has " + std::to_string(s->size()) + " dimensions");
      uint64_t numel = 1;
      bool overflow = false;
      for (const auto& dim : *s) {
        if (!dim.is_number_integer()) return terr(path, name, "shape holds a non-integer");
        int64_t dv = dim.get<int64_t>();
        if (dv < 0) return terr(path, name, "negative dimension " + std::to_string(dv));
        t.shape.push_back(dv);
        if (dv != 0 && numel > std::numeric_limits<uint64_t>::max() / uint64_t(dv)) overflow = true;
        numel *= uint64_t(dv);
      }
      if (overflow || numel > std::numeric_limits<uint64_t>::max() / esize)
        return terr(path, name, "shape too large");
      auto o = v.find("data_offsets");
      if (o == v.end() || !o->is_array() || o->size() != 2 || !(*o)[0].is_number_unsigned() ||
          !(*o)[1].is_number_unsigned())
        return terr(path, name, "data_offsets must be two non-negative integers");
      t.begin = (*o)[0].get<uint64_t>();
      t.end = (*o)[1].get<uint64_t>();
      if (t.begin > t.end) return terr(path, name, "data_offsets begin > end");
      if (t.end > data_size)
        return terr(path, name, "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                                    ") run past the data area (" + std::to_string(data_size) +
                                    " bytes): truncated or corrupt");
      if (t.end - t.begin != numel * esize)
        return terr(path, name, "holds " + std::to_string(t.end - t.begin) + " bytes but " + t.dtype + " shape needs " +
                                    std::to_string(numel * esize));
      t.data = data_base + t.begin;
      f->index_[name] = f->tensors_.size();
      f->tensors_.push_back(std::move(t));
    }
    // No two tensors may share bytes: sort by start and compare neighbours (empty ones never overlap).
    std::vector<const StTensor*> order;
    for (const auto& t : f->tensors_) if (t.end > t.begin) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const StTensor* a, const StTensor* b) { return a->begin < b->begin; });
    for (size_t i = 1; i < order.size(); i++)
      if (order[i]->begin < order[i - 1]->end)
        return terr(path, order[i]->name, "data_offsets overlap those of tensor '" + order[i - 1]->name + "'");
    *out = std::move(f);
    return Status::OK();
  } catch (const std::exception& e) {
    return err(path, std::string("cannot read: ") + e.what());
  }
}

void SafetensorsFile::release(const StTensor& t) const {
  static const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  // Only whole pages inside the tensor: neighbours sharing a boundary page stay resident.
  uintptr_t b = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page;
  uintptr_t e = (reinterpret_cast<uintptr_t>(t.data) + t.nbytes()) / page * page;
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
}

const StTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Status SafetensorsFile::read_f32(const std::string& name, std::vector<float>* out,
                                 std::vector<int64_t>* shape) const {
  const StTensor* t = find(name);
  if (!t) return terr(path_, name, "not found");
  size_t n = size_t(t->numel());
  out->resize(n);
  if (t->dtype == "F32") {
    std::memcpy(out->data(), t->data, n * 4);
  } else if (t->dtype == "BF16" || t->dtype == "F16") {
    for (size_t i = 0; i < n; i++) {
      uint16_t h;
      std::memcpy(&h, t->data + 2 * i, 2);
      (*out)[i] = t->dtype == "BF16" ? bf16_to_f32(h) : f16_to_f32(h);
    }
  } else {
    return terr(path_, name, "dtype " + t->dtype + " where F32, F16 or BF16 was expected");
  }
  if (shape) *shape = t->shape;
  return Status::OK();
}

Status SafetensorsFile::read_i32(const std::string& name, std::vector<int32_t>* out,
                                 std::vector<int64_t>* shape) const {
  const StTensor* t = find(name);
  if (!t) return terr(path_, name, "not found");
  size_t n = size_t(t->numel());
  out->resize(n);
  if (t->dtype == "I32") {
    std::memcpy(out->data(), t->data, n * 4);
  } else if (t->dtype == "I64") {
    for (size_t i = 0; i < n; i++) {
      int64_t v;
      std::memcpy(&v, t->data + 8 * i, 8);
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        return terr(path_, name, "I64 value does not fit in int32");
      (*out)[i] = int32_t(v);
    }
  } else {
    return terr(path_, name, "dtype " + t->dtype + " where I32 was expected");
  }
  if (shape) *shape = t->shape;
  return Status::OK();
}

static bool file_exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Status read_safetensors_index(const std::string& path, SafetensorsIndex* out) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return err(path, "cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_safetensors_index(ss.str(), path, out);
  } catch (const std::exception& e) {
    return err(path, std::string("cannot read: ") + e.what());
  }
}

Status parse_safetensors_index(const std::string& json_text, const std::string& path, SafetensorsIndex* out) {
  try {
    json j = json::parse(json_text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return err(path, "not a valid JSON object");
    auto wm = j.find("weight_map");
    if (wm == j.end() || !wm->is_object()) return err(path, "missing field 'weight_map'");
    std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    std::set<std::string> shards;
    SafetensorsIndex idx;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it.value().is_string()) return err(path, "weight_map entry for tensor '" + it.key() + "' is not a file name");
      std::string shard = it.value().get<std::string>();
      if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
        return err(path, "weight_map entry for tensor '" + it.key() + "' names a bad shard '" + shard + "'");
      if (!shards.count(shard) && !file_exists(dir + shard))
        return err(path, "shard '" + shard + "' (holding tensor '" + it.key() + "') does not exist");
      shards.insert(shard);
      idx.weight_map[it.key()] = shard;
    }
    idx.shards.assign(shards.begin(), shards.end());
    *out = std::move(idx);
    return Status::OK();
  } catch (const std::exception& e) {
    return err(path, std::string("cannot read: ") + e.what());
  }
}

void SafetensorsWriter::add(const std::string& name, const std::string& dtype,
                            const std::vector<int64_t>& shape, FillFn fill) {
  uint64_t n = 1;
  for (auto d : shape) n *= uint64_t(d);
  entries_.push_back({name, dtype, shape, n * safetensors_dtype_size(dtype), std::move(fill)});
}

void SafetensorsWriter::add_bytes(const std::string& name, const std::string& dtype,
                                  const std::vector<int64_t>& shape, const void* data) {
  const uint8_t* src = static_cast<const uint8_t*>(data);
  add(name, dtype, shape, [src](uint8_t* dst, size_t off, size_t len) { std::memcpy(dst, src + off, len); });
}

uint64_t SafetensorsWriter::data_bytes() const {
  uint64_t s = 0;
  for (const auto& e : entries_) s += e.nbytes;
  return s;
}

const std::vector<std::string> SafetensorsWriter::names() const {
  std::vector<std::string> v;
  for (const auto& e : entries_) v.push_back(e.name);
  return v;
}

Status SafetensorsWriter::write(const std::string& path) const {
  try {
    for (const auto& e : entries_)
      if (safetensors_dtype_size(e.dtype) == 0) return terr(path, e.name, "unknown dtype '" + e.dtype + "'");
    std::set<std::string> seen;
    for (const auto& e : entries_)
      if (!seen.insert(e.name).second) return terr(path, e.name, "added twice");
    json h = json::object();
    if (!metadata_.empty()) h["__metadata__"] = metadata_;
    uint64_t off = 0;
    for (const auto& e : entries_) {
      h[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {off, off + e.nbytes}}};
      off += e.nbytes;
    }
    std::string hs = h.dump();
    // Pad with spaces so the data area starts 8-byte aligned (the format allows trailing spaces).
    while ((8 + hs.size()) % 8) hs.push_back(' ');
    FILE* fp = std::fopen(path.c_str(), "wb");
    if (!fp) return err(path, std::string("cannot create: ") + std::strerror(errno));
    std::unique_ptr<FILE, int (*)(FILE*)> guard(fp, std::fclose);
    uint8_t lenb[8];
    for (int i = 0; i < 8; i++) lenb[i] = uint8_t(uint64_t(hs.size()) >> (8 * i));
    if (std::fwrite(lenb, 1, 8, fp) != 8 || std::fwrite(hs.data(), 1, hs.size(), fp) != hs.size())
      return err(path, "write failed");
    std::vector<uint8_t> buf;
    for (const auto& e : entries_) {
      for (uint64_t pos = 0; pos < e.nbytes; pos += kWriteChunkBytes) {
        size_t len = size_t(std::min<uint64_t>(kWriteChunkBytes, e.nbytes - pos));
        buf.resize(len);
        e.fill(buf.data(), size_t(pos), len);
        if (std::fwrite(buf.data(), 1, len, fp) != len)
          return terr(path, e.name, std::string("write failed: ") + std::strerror(errno));
      }
    }
    if (std::fflush(fp) != 0) return err(path, "write failed (disk full?)");
    if (std::fclose(guard.release()) != 0) return err(path, "write failed on close (disk full?)");
    return Status::OK();
  } catch (const std::exception& e) {
    return err(path, std::string("cannot write: ") + e.what());
  }
}

Status write_safetensors_index(const std::string& path,
                               const std::map<std::string, std::string>& weight_map,
                               uint64_t total_size) {
  try {
    json j = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
    std::ofstream o(path, std::ios::binary);
    if (!o) return err(path, "cannot create");
    o << j.dump(2) << "\n";
    if (!o) return err(path, "write failed");
    return Status::OK();
  } catch (const std::exception& e) {
    return err(path, std::string("cannot write: ") + e.what());
  }
}

}  // namespace kk

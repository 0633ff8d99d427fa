// test_loader.cpp — safetensors reader/writer, config parsing, checkpoint loading and the
// malformed-checkpoint corpus (each must fail with a message naming the file and the tensor/field).
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "loader/safetensors.h"

using namespace kk;

static int g_failures = 0;
#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                   \
      std::fprintf(stderr, "\n");                                          \
      g_failures++;                                                        \
    }                                                                      \
  } while (0)

static std::string shared_dir() {
  const char* e = std::getenv("KK_SHARED");
  return e ? e : "../shared";
}

static void test_reference_reader() {
  std::string path = shared_dir() + "/fixtures/tiny-k2/reference.safetensors";
  std::shared_ptr<SafetensorsFile> f;
  Status s = SafetensorsFile::open(path, &f);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  std::vector<int32_t> ids;
  std::vector<int64_t> shape;
  s = f->read_i32("p0.input_ids", &ids, &shape);
  CHECK(s.ok() && shape.size() == 1 && shape[0] == 7 && ids.size() == 7, "%s", s.message().c_str());
  for (int32_t id : ids) CHECK(id >= 0 && id < 2048, "id %d", id);
  std::vector<float> logits;
  s = f->read_f32("p2.logits", &logits, &shape);
  CHECK(s.ok() && shape == (std::vector<int64_t>{120, 2048}), "%s", s.message().c_str());
  double sum2 = 0;
  for (float v : logits) sum2 += double(v) * v;
  double sd = std::sqrt(sum2 / logits.size());
  CHECK(sd > 0.5 && sd < 2.0, "logit rms %f (README says about 1.05)", sd);
  s = f->read_f32("p0.nope", &logits);
  CHECK(!s.ok() && s.message().find("p0.nope") != std::string::npos, "%s", s.message().c_str());
  s = f->read_f32("p0.input_ids", &logits);
  CHECK(!s.ok() && s.message().find("I32") != std::string::npos, "%s", s.message().c_str());
}

static void test_writer_roundtrip(const std::string& tmp) {
  std::string path = tmp + "/rt.safetensors";
  std::vector<float> a = {1.5f, -2.f, 3.25f, 0.f, 7.f, -8.f};
  std::vector<int32_t> b = {1, 2, 3};
  SafetensorsWriter w;
  w.add_bytes("a", "F32", {2, 3}, a.data());
  w.add_bytes("b", "I32", {3}, b.data());
  w.add("c", "U8", {1000}, [](uint8_t* d, size_t off, size_t len) { for (size_t i = 0; i < len; i++) d[i] = uint8_t(off + i); });
  w.set_metadata("format", "pt");
  Status s = w.write(path);
  CHECK(s.ok(), "%s", s.message().c_str());
  std::shared_ptr<SafetensorsFile> f;
  s = SafetensorsFile::open(path, &f);
  CHECK(s.ok(), "%s", s.message().c_str());
  if (!s.ok()) return;
  std::vector<float> ra;
  std::vector<int32_t> rb;
  CHECK(f->read_f32("a", &ra).ok() && ra == a, "a differs");
  CHECK(f->read_i32("b", &rb).ok() && rb == b, "b differs");
  const StTensor* c = f->find("c");
  CHECK(c && c->nbytes() == 1000 && c->data[999] == uint8_t(999), "c differs");
  CHECK(f->metadata().count("format") && f->metadata().at("format") == "pt", "metadata lost");
}

int main() {
  char tmpl[] = "/tmp/kk_test_loader_XXXXXX";
  std::string tmp = mkdtemp(tmpl);
  test_reference_reader();
  test_writer_roundtrip(tmp);
  std::string rm = "rm -rf '" + tmp + "'";
  if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", tmp.c_str());
  if (g_failures) { std::fprintf(stderr, "%d check(s) failed\n", g_failures); return 1; }
  std::printf("test_loader: ok\n");
  return 0;
}

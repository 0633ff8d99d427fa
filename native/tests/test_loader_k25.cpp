// test_loader_k25.cpp — Kimi K2.5 / K2.6 packaging of the text backbone:
//  1. tiny-k2 repackaged as K2.5 ships (nested text_config, language_model. prefixes, dummy bf16
//     vision_tower / mm_projector tensors, quantization_config at the top level) gives exactly
//     the original's logits: eval reports the same errors bit for bit, and every position's
//     logits are identical.
//  2. a K2.5-style copy with beta_fast 32, rope_parameters (transformers >= 5 spelling),
//     rms_norm_eps 1e-5 and quantization_config inside text_config loads with those knobs, and
//     its rope inverse frequencies equal a float64 evaluation of YaRN (transformers'
//     _compute_yarn_parameters), which differs from the beta_fast 1 one.
//  3. config parsing: a wrapper without text_config is a clear error; an unknown text
//     model_type is read as K2 (the top level decides); rope_theta read from rope_parameters.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine_impl.h"
#include "karakoram/tools.h"
#include "k25_package.h"
#include "model/rope.h"
#include "test_util.h"

using namespace kk;
using k25_test::json;

namespace {

std::string shared_dir() {
  if (const char* s = std::getenv("KK_SHARED")) return s;
  return "../shared";
}
bool exists(const std::string& p) { struct stat st; return stat(p.c_str(), &st) == 0; }

std::string tmp_dir(const char* name) {
  std::string t = std::string("/tmp/kk_") + name + "_XXXXXX";
  std::vector<char> buf(t.begin(), t.end());
  buf.push_back('\0');
  return mkdtemp(buf.data());
}

// YaRN inverse frequencies in float64: transformers' _compute_yarn_parameters, written out.
std::vector<double> yarn_inv_freq_f64(int dim, double base, double factor, double orig, double beta_fast, double beta_slow) {
  auto corr = [&](double rot) { return dim * std::log(orig / (rot * 2 * M_PI)) / (2 * std::log(base)); };
  double low = std::max(std::floor(corr(beta_fast)), 0.0), high = std::min(std::ceil(corr(beta_slow)), double(dim - 1));
  if (low == high) high += 0.001;
  std::vector<double> f(size_t(dim / 2));
  for (int i = 0; i < dim / 2; ++i) {
    const double pos = std::pow(base, double(2 * i) / dim);
    const double ramp = std::min(1.0, std::max(0.0, (i - low) / (high - low)));
    const double extrap = 1.0 - ramp;
    f[size_t(i)] = (1.0 / (factor * pos)) * (1.0 - extrap) + (1.0 / pos) * extrap;
  }
  return f;
}

std::unique_ptr<Engine> load(const std::string& dir) {
  LoadOptions lo;
  lo.threads = 2;
  lo.max_sequences = 2;
  lo.max_context = 256;
  std::unique_ptr<Engine> e;
  Status st = Engine::load(dir, lo, nullptr, &e);
  CHECK(st.ok(), "load %s: %s", dir.c_str(), st.message().c_str());
  return e;
}

std::vector<float> all_logits(Engine& e, const std::vector<int32_t>& ids) {
  SeqId s = -1;
  CHECK(e.new_sequence(&s).ok(), "new_sequence");
  ForwardRequest req;
  req.all_logits = true;
  ForwardResult r;
  Status st = e.forward(s, ids.data(), int(ids.size()), req, &r);
  CHECK(st.ok(), "forward: %s", st.message().c_str());
  e.free_sequence(s);
  return r.logits;
}

EvalReport eval(const std::string& dir, const std::string& ref) {
  EvalOptions o;
  o.load.mode = "exact";
  o.load.threads = 2;
  EvalReport rep;
  Status s = run_eval(dir, ref, o, [](const std::string& l) { std::printf("  %s\n", l.c_str()); }, &rep);
  CHECK(s.ok(), "eval %s: %s", dir.c_str(), s.message().c_str());
  return rep;
}

void check_same_logits(const std::string& tiny, const std::string& k25) {
  const std::string ref = tiny + "/reference.safetensors";
  const EvalReport a = eval(tiny, ref), b = eval(k25, ref);
  CHECK(b.pass, "K2.5-packaged eval: %s", b.summary_line.c_str());
  CHECK(a.max_abs_logit_err == b.max_abs_logit_err && a.max_rel_hidden_err == b.max_rel_hidden_err &&
            a.decode_max_abs_logit_err == b.decode_max_abs_logit_err && a.topk_agree == b.topk_agree,
        "packaging changed eval: %s vs %s", a.summary_line.c_str(), b.summary_line.c_str());

  std::shared_ptr<SafetensorsFile> rf;
  CHECK(SafetensorsFile::open(ref, &rf).ok(), "reference");
  std::vector<int32_t> ids;
  CHECK(rf->read_i32("p1.input_ids", &ids).ok(), "p1.input_ids");
  auto ea = load(tiny), eb = load(k25);
  if (!ea || !eb) return;
  const std::vector<float> la = all_logits(*ea, ids), lb = all_logits(*eb, ids);
  CHECK(la.size() == lb.size() && !la.empty(), "logit sizes %zu vs %zu", la.size(), lb.size());
  size_t differ = 0;
  for (size_t i = 0; i < std::min(la.size(), lb.size()); ++i) differ += la[i] != lb[i];
  CHECK(differ == 0, "%zu of %zu logits differ between tiny-k2 and its K2.5 packaging", differ, la.size());
  CHECK(eb->info().model_type == "kimi_k2", "text model type %s", eb->info().model_type.c_str());
}

void check_beta_fast_32(const std::string& tiny, const std::string& dir) {
  k25_test::PackageOptions o;
  o.text_model_type = "kimi_k25_text";  // copies disagree on this name: the top level decides
  o.quant_in_text = true;
  o.edit_text_config = [](json& t) {
    json rp = t["rope_scaling"];
    t.erase("rope_scaling");
    rp["beta_fast"] = 32.0;
    rp["rope_theta"] = t["rope_theta"];
    t.erase("rope_theta");
    t["rope_parameters"] = rp;
    t["rms_norm_eps"] = 1e-5;
  };
  const std::string err = k25_test::package_as_k25(tiny, dir, o);
  CHECK(err.empty(), "package: %s", err.c_str());
  auto e = load(dir);
  if (!e) return;
  const Model& m = static_cast<EngineImpl&>(*e).model();
  const ModelConfig& c = m.config();
  CHECK(c.wrapper.model_type == "kimi_k25" && c.wrapper.architecture == "KimiK25ForConditionalGeneration",
        "wrapper %s / %s", c.wrapper.model_type.c_str(), c.wrapper.architecture.c_str());
  CHECK(c.model_type == "kimi_k2", "text model type read as %s", c.model_type.c_str());
  CHECK(c.rms_norm_eps == 1e-5, "rms_norm_eps %g", c.rms_norm_eps);
  CHECK(c.rope_scaling.type == "yarn" && c.rope_scaling.beta_fast == 32.0 && c.rope_theta == 50000.0,
        "rope %s beta_fast %g theta %g", c.rope_scaling.type.c_str(), c.rope_scaling.beta_fast, c.rope_theta);
  CHECK(c.quant.method == "compressed-tensors", "quantization_config inside text_config: %s", c.quant.method.c_str());
  const RopeScaling& s = c.rope_scaling;
  const std::vector<double> want = yarn_inv_freq_f64(c.qk_rope_head_dim, c.rope_theta, s.factor,
                                                     s.original_max_position_embeddings, 32.0, s.beta_slow);
  const std::vector<double> k2 = yarn_inv_freq_f64(c.qk_rope_head_dim, c.rope_theta, s.factor,
                                                   s.original_max_position_embeddings, 1.0, s.beta_slow);
  const Rope& r = m.rope();
  CHECK(r.inv_freq.size() == want.size(), "rope dim");
  int changed = 0;
  for (size_t i = 0; i < want.size() && i < r.inv_freq.size(); ++i) {
    CHECK(std::fabs(r.inv_freq[i] - want[i]) <= 2e-7 * want[i], "inv_freq[%zu] = %.9g, float64 YaRN %.9g", i,
          double(r.inv_freq[i]), want[i]);
    changed += std::fabs(want[i] - k2[i]) > 1e-3 * want[i];
  }
  // beta_fast 32 moves the ramp: the test would not notice an ignored beta_fast otherwise.
  CHECK(changed > 0, "beta_fast 32 and 1 give the same frequencies at rope dim %d", c.qk_rope_head_dim);
  // The model still runs (its logits differ from the reference: other rope, other eps).
  std::vector<int32_t> ids = {5, 17, 300, 2000, 9};
  const std::vector<float> l = all_logits(*e, ids);
  bool finite = !l.empty();
  for (float v : l) finite = finite && std::isfinite(v);
  CHECK(finite, "beta_fast 32 logits finite");
}

void check_config_errors() {
  ModelConfig c;
  Status st = parse_model_config(R"({"model_type":"kimi_k25","architectures":["KimiK25ForConditionalGeneration"]})", "x/config.json", &c);
  CHECK(!st.ok() && st.message().find("text_config") != std::string::npos, "no text_config: %s", st.message().c_str());
  st = parse_model_config(R"({"architectures":["KimiK25ForConditionalGeneration"],"text_config":7})", "x/config.json", &c);
  CHECK(!st.ok() && st.message().find("text_config") != std::string::npos, "bad text_config: %s", st.message().c_str());
  // A bad field inside text_config names where it is.
  st = parse_model_config(R"({"model_type":"kimi_k25","text_config":{"model_type":"kimi_k2"}})", "x/config.json", &c);
  CHECK(!st.ok() && st.message().find("(text_config)") != std::string::npos, "missing field: %s", st.message().c_str());
  // A plain config is unchanged: no wrapper, no prefix.
  st = parse_model_config(k25_test::read_text(shared_dir() + "/fixtures/tiny-k2/config.json"), "tiny", &c);
  CHECK(st.ok() && !c.wrapper.wrapped() && c.wrapper.tensor_prefix.empty(), "plain config: %s", st.message().c_str());
}

}  // namespace

int main() {
  const std::string tiny = shared_dir() + "/fixtures/tiny-k2";
  if (!exists(tiny + "/config.json")) { std::printf("skip: no %s\n", tiny.c_str()); return KK_TEST_SKIP; }
  check_config_errors();
  const std::string root = tmp_dir("k25");
  const std::string packaged = root + "/k25", fast32 = root + "/k25-beta32";
  const std::string err = k25_test::package_as_k25(tiny, packaged);
  CHECK(err.empty(), "package: %s", err.c_str());
  if (err.empty()) check_same_logits(tiny, packaged);
  check_beta_fast_32(tiny, fast32);
  std::filesystem::remove_all(root);
  return kk_test::finish("test_loader_k25");
}

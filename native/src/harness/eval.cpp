// eval.cpp — `karakoram eval`: the engine against a reference file (HF transformers outputs).
// Per prompt pP: prefill logits (max abs error), every hidden state (max abs error / max |ref|),
// router top-k sets per MoE layer (fraction of (token, layer) pairs whose sets agree), and
// teacher-forced decoding through the KV cache against pP.greedy_logits.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include "karakoram/engine.h"
#include "karakoram/tools.h"
#include "loader/safetensors.h"

namespace kk {
namespace {

// Pass thresholds. Exact mode: fp32 activations should match the float64 reference to ~1e-6; the
// limits leave room for accumulation order only. Fast mode quantizes activations to int8 for the
// INT4 expert matmuls, which by design moves hidden states by ~1 % relative, so there the hidden
// error is reported but not judged; the logit (0.08) and top-k (98 %) bounds decide.
struct Limits { double logit, hidden, topk, decode_logit; bool check_hidden; };
constexpr Limits kExact{2e-3, 1e-3, 0.995, 2e-3, true};
constexpr Limits kFast{0.08, 0.0, 0.98, 0.08, false};

double max_abs_diff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d <= m)) m = d;  // NaN propagates as the max
  }
  return m;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

Status run_eval(const std::string& model_dir, const std::string& reference, const EvalOptions& opts,
                const std::function<void(const std::string& line)>& on_line, EvalReport* out) {
  *out = EvalReport();
  std::shared_ptr<SafetensorsFile> ref;
  KK_RETURN_IF_ERROR(SafetensorsFile::open(reference, &ref));
  std::unique_ptr<Engine> engine;
  KK_RETURN_IF_ERROR(Engine::load(model_dir, opts.load, nullptr, &engine));
  const ModelInfo& info = engine->info();
  const int V = info.vocab, D = info.hidden, L = info.n_layers;
  const Limits lim = opts.load.mode == "fast" ? kFast : kExact;
  const std::string where = reference + ": ";

  int64_t topk_pairs = 0, topk_same = 0;
  for (int p = 0;; ++p) {
    const std::string pre = "p" + std::to_string(p) + ".";
    if (!ref->find(pre + "input_ids")) break;
    EvalPromptResult r;
    r.prompt = p;
    std::vector<int32_t> ids;
    KK_RETURN_IF_ERROR(ref->read_i32(pre + "input_ids", &ids));
    r.tokens = int(ids.size());
    const int T = r.tokens;

    SeqId seq;
    KK_RETURN_IF_ERROR(engine->new_sequence(&seq));
    struct Free { Engine* e; SeqId s; ~Free() { e->free_sequence(s); } } free_seq{engine.get(), seq};
    ForwardRequest req;
    req.all_logits = req.hidden = req.router_topk = true;
    ForwardResult fr;
    KK_RETURN_IF_ERROR(engine->forward(seq, ids.data(), T, req, &fr));

    std::vector<float> want;
    KK_RETURN_IF_ERROR(ref->read_f32(pre + "logits", &want));
    if (want.size() != size_t(T) * V) return Status::Error(where + pre + "logits: shape is not [T, vocab]");
    r.max_abs_logit_err = max_abs_diff(fr.logits.data(), want.data(), want.size());

    // Hidden states: reference K = 0 .. L: embedding, after layers 0..L-2, final-norm output.
    int n_ref_hidden = 0;
    while (ref->find(pre + "hidden." + std::to_string(n_ref_hidden))) ++n_ref_hidden;
    for (int k = 0; k < n_ref_hidden; ++k) {
      KK_RETURN_IF_ERROR(ref->read_f32(pre + "hidden." + std::to_string(k), &want));
      const int ours = k == n_ref_hidden - 1 ? L + 1 : k;
      if (want.size() != size_t(T) * D || ours >= int(fr.hidden.size()))
        return Status::Error(where + pre + "hidden." + std::to_string(k) + ": unexpected shape");
      double mag = 0;
      for (float v : want) mag = std::max(mag, double(std::fabs(v)));
      const double e = max_abs_diff(fr.hidden[ours].data(), want.data(), want.size()) / std::max(mag, 1e-30);
      if (!(e <= r.max_rel_hidden_err)) r.max_rel_hidden_err = e;
    }

    // Router top-k sets (both sides sorted ascending).
    int64_t pairs = 0, same = 0;
    for (int l = 0; l < L; ++l) {
      const std::string name = pre + "topk." + std::to_string(l);
      if (!ref->find(name)) continue;
      std::vector<int32_t> k_ref;
      KK_RETURN_IF_ERROR(ref->read_i32(name, &k_ref));
      const std::vector<int32_t>& k_ours = fr.router_topk[l];
      const int K = info.top_k;
      if (k_ref.size() != size_t(T) * K || k_ours.size() != k_ref.size())
        return Status::Error(where + name + ": expected [T, " + std::to_string(K) + "] expert ids");
      for (int t = 0; t < T; ++t) {
        std::vector<int32_t> a(k_ref.begin() + t * K, k_ref.begin() + (t + 1) * K);
        std::vector<int32_t> b(k_ours.begin() + t * K, k_ours.begin() + (t + 1) * K);
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        ++pairs;
        same += a == b;
      }
    }
    r.topk_agree = pairs ? double(same) / double(pairs) : 1.0;
    topk_pairs += pairs;
    topk_same += same;

    // Teacher-forced decode: greedy_logits[i] follow prompt + greedy[:i].
    if (ref->find(pre + "greedy")) {
      std::vector<int32_t> greedy;
      KK_RETURN_IF_ERROR(ref->read_i32(pre + "greedy", &greedy));
      KK_RETURN_IF_ERROR(ref->read_f32(pre + "greedy_logits", &want));
      if (want.size() != greedy.size() * size_t(V))
        return Status::Error(where + pre + "greedy_logits: shape is not [G, vocab]");
      std::vector<float> step(fr.logits.end() - V, fr.logits.end());  // after the prompt
      for (size_t i = 0; i < greedy.size(); ++i) {
        if (i > 0) {
          ForwardResult d;
          KK_RETURN_IF_ERROR(engine->forward(seq, &greedy[i - 1], 1, ForwardRequest(), &d));
          step = std::move(d.logits);
        }
        const double e = max_abs_diff(step.data(), want.data() + i * V, V);
        if (!(e <= r.decode_max_abs_logit_err)) r.decode_max_abs_logit_err = e;
      }
    }

    if (on_line)
      on_line("prompt " + std::to_string(p) + ": tokens=" + std::to_string(T) +
              fmt(" max_abs_logit_err=%.3e", r.max_abs_logit_err) +
              fmt(" max_rel_hidden_err=%.3e", r.max_rel_hidden_err) + fmt(" topk_agree=%.4f", r.topk_agree) +
              fmt(" decode_max_abs_logit_err=%.3e", r.decode_max_abs_logit_err));
    out->max_abs_logit_err = std::max(out->max_abs_logit_err, r.max_abs_logit_err);
    out->max_rel_hidden_err = std::max(out->max_rel_hidden_err, r.max_rel_hidden_err);
    out->decode_max_abs_logit_err = std::max(out->decode_max_abs_logit_err, r.decode_max_abs_logit_err);
    if (std::isnan(r.max_abs_logit_err) || std::isnan(r.max_rel_hidden_err) || std::isnan(r.decode_max_abs_logit_err))
      out->max_abs_logit_err = NAN;
    out->prompts.push_back(r);
  }
  if (out->prompts.empty()) return Status::Error(where + "no prompts (expected p0.input_ids ...)");
  out->topk_agree = topk_pairs ? double(topk_same) / double(topk_pairs) : 1.0;
  out->pass = out->max_abs_logit_err <= lim.logit && out->decode_max_abs_logit_err <= lim.decode_logit &&
              out->topk_agree >= lim.topk && (!lim.check_hidden || out->max_rel_hidden_err <= lim.hidden);
  out->summary_line = "eval: prompts=" + std::to_string(out->prompts.size()) +
                      fmt(" max_abs_logit_err=%.3e", out->max_abs_logit_err) +
                      fmt(" max_rel_hidden_err=%.3e", out->max_rel_hidden_err) +
                      fmt(" topk_agree=%.4f", out->topk_agree) +
                      fmt(" decode_max_abs_logit_err=%.3e", out->decode_max_abs_logit_err) +
                      " verdict=" + (out->pass ? "PASS" : "FAIL");
  if (on_line) on_line(out->summary_line);
  return Status::OK();
}

}  // namespace kk

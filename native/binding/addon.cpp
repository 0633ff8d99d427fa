// addon.cpp — module entry: loadModel, evaluate, bench, synth, cpuFeatures, cudaProbe, expertHeat.
#include <napi.h>
#include "async.h"
#include "cpu/kernels.h"
#include "model.h"
#include "options.h"
#include "karakoram/backends.h"
#include "karakoram/tools.h"

namespace kkjs {

static void progress_event(const Emit& emit, const std::string& stage, double fraction) {
  Event e; e.stage = stage; e.fraction = fraction; emit(e);
}

static Napi::Function optional_fn(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() > i && info[i].IsFunction()) return info[i].As<Napi::Function>();
  if (info.Length() > i && !info[i].IsUndefined() && !info[i].IsNull())
    throw Napi::TypeError::New(info.Env(), "callback must be a function");
  return Napi::Function();
}

static std::string str_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// loadModel(dir, options, onProgress) -> Promise<NativeModel>
static Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = str_arg(info, 0, "model directory");
  kk::LoadOptions opts = load_options(info.Length() > 1 ? info[1] : env.Undefined());
  auto holder = std::make_shared<EngineHolder>();
  Work work = [dir, opts, holder](const Emit& emit) {
    return kk::Engine::load(dir, opts, [&](const std::string& s, double f) { progress_event(emit, s, f); }, &holder->engine);
  };
  Resolve resolve = [holder](Napi::Env env) -> Napi::Value { return Model::New(env, holder); };
  return run_async(env, work, resolve, optional_fn(info, 2));
}

// evaluate(modelDir, reference, options, onLine) -> Promise<EvalSummary>
static Napi::Value Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  kk::EvalOptions opts;
  std::string dir = str_arg(info, 0, "model directory"), ref = str_arg(info, 1, "reference file");
  opts.load = load_options(info.Length() > 2 ? info[2] : env.Undefined());
  auto report = std::make_shared<kk::EvalReport>();
  Work work = [dir, ref, opts, report](const Emit& emit) {
    return kk::run_eval(dir, ref, opts, [&](const std::string& line) { Event e; e.line = line; emit(e); }, report.get());
  };
  Resolve resolve = [report](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("prompts", static_cast<double>(report->prompts.size()));
    o.Set("maxAbsLogitErr", report->max_abs_logit_err);
    o.Set("maxRelHiddenErr", report->max_rel_hidden_err);
    o.Set("topkAgree", report->topk_agree);
    o.Set("decodeMaxAbsLogitErr", report->decode_max_abs_logit_err);
    o.Set("pass", report->pass);
    o.Set("summaryLine", report->summary_line);
    return o;
  };
  return run_async(env, work, resolve, optional_fn(info, 3));
}

// bench(options) -> Promise<string JSON>
static Napi::Value Bench(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "bench(options)");
  Napi::Object js = info[0].As<Napi::Object>();
  kk::BenchOptions o;
  o.model_dir = str_opt(js, "model", "");
  o.synthetic = str_opt(js, "synthetic", "");
  o.prompt_len = static_cast<int>(num_opt(js, "promptLen", o.prompt_len));
  o.gen = static_cast<int>(num_opt(js, "gen", o.gen));
  o.threads = static_cast<int>(num_opt(js, "threads", o.threads));
  o.mode = str_opt(js, "mode", o.mode);
  o.kv_dtype = str_opt(js, "kvDtype", o.kv_dtype);
  o.q4_layout = str_opt(js, "q4Layout", o.q4_layout);
  o.prefix_len = static_cast<int>(num_opt(js, "prefixLen", o.prefix_len));
  o.follow_len = static_cast<int>(num_opt(js, "followLen", o.follow_len));
  if (js.Has("concurrency") && js.Get("concurrency").IsArray()) {
    const Napi::Array a = js.Get("concurrency").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i)
      if (a.Get(i).IsNumber()) o.concurrency.push_back(a.Get(i).As<Napi::Number>().Int32Value());
  }
  auto out = std::make_shared<std::string>();
  Work work = [o, out](const Emit&) { return kk::run_bench(o, out.get()); };
  Resolve resolve = [out](Napi::Env env) -> Napi::Value { return Napi::String::New(env, *out); };
  return run_async(env, work, resolve);
}

// synth(options, onProgress) -> Promise<void>
static Napi::Value Synth(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "synth(options)");
  Napi::Object js = info[0].As<Napi::Object>();
  kk::SynthOptions o;
  o.preset = str_opt(js, "preset", o.preset);
  o.layers = static_cast<int>(num_opt(js, "layers", o.layers));
  o.experts = static_cast<int>(num_opt(js, "experts", o.experts));
  o.seed = static_cast<uint64_t>(num_opt(js, "seed", static_cast<double>(o.seed)));
  o.routing_skew = num_opt(js, "routingSkew", o.routing_skew);
  o.out_dir = str_opt(js, "out", "");
  if (o.out_dir.empty()) throw Napi::TypeError::New(env, "synth: option 'out' (directory) is required");
  Work work = [o](const Emit& emit) {
    return kk::write_synthetic(o, [&](const std::string& s, double f) { progress_event(emit, s, f); });
  };
  return run_async(env, work, Resolve(), optional_fn(info, 1));
}

// cudaProbe() -> { usable, deviceCount, pluginPath, reason }: whether the "cuda" backend can run
// here (plugin, driver, device), asked by the engine process before a load to choose a backend.
static Napi::Value CudaProbeJs(const Napi::CallbackInfo& info) {
  const kk::CudaProbe p = kk::probe_cuda();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("usable", p.usable);
  o.Set("deviceCount", p.device_count);
  o.Set("pluginPath", p.plugin_path);
  o.Set("reason", p.reason);
  return o;
}

// expertHeat() -> { nLayers, nExperts, counts: number[], onGpu: boolean[] } (flat, layer-major):
// the CUDA backend's routing counts and GPU residency (empty on the CPU backend).
static Napi::Value ExpertHeatJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const kk::ExpertHeat h = kk::expert_heat();
  Napi::Object o = Napi::Object::New(env);
  o.Set("nLayers", h.n_layers);
  o.Set("nExperts", h.n_experts);
  Napi::Array counts = Napi::Array::New(env, h.counts.size()), on_gpu = Napi::Array::New(env, h.on_gpu.size());
  for (size_t i = 0; i < h.counts.size(); ++i) counts.Set(uint32_t(i), h.counts[i]);
  for (size_t i = 0; i < h.on_gpu.size(); ++i) on_gpu.Set(uint32_t(i), h.on_gpu[i] != 0);
  o.Set("counts", counts);
  o.Set("onGpu", on_gpu);
  return o;
}

static Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  auto variants = kk::cpu::kernels_available();
  Napi::Array a = Napi::Array::New(info.Env(), variants.size());
  for (size_t i = 0; i < variants.size(); ++i) a.Set(static_cast<uint32_t>(i), variants[i]->name);
  return a;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeModel", Model::Init(env));
  exports.Set("loadModel", Napi::Function::New(env, LoadModel));
  exports.Set("evaluate", Napi::Function::New(env, Evaluate));
  exports.Set("bench", Napi::Function::New(env, Bench));
  exports.Set("synth", Napi::Function::New(env, Synth));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures));
  exports.Set("cudaProbe", Napi::Function::New(env, CudaProbeJs));
  exports.Set("expertHeat", Napi::Function::New(env, ExpertHeatJs));
  return exports;
}

}  // namespace kkjs

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return kkjs::Init(env, exports); }
NODE_API_MODULE(karakoram_node, InitModule)

// model.cpp — NativeModel methods: info, generate (streaming, cancellable), memoryStats, KV
// snapshots (save / restore), dispose.
#include "model.h"
#include "async.h"
#include "options.h"

namespace kkjs {

Napi::FunctionReference* Model::constructor_ = nullptr;

Napi::Function Model::Init(Napi::Env env) {
  Napi::Function f = DefineClass(env, "NativeModel", {
      InstanceMethod<&Model::Info>("info"),
      InstanceMethod<&Model::Generate>("generateRaw"),
      InstanceMethod<&Model::MemoryStats>("memoryStats"),
      InstanceMethod<&Model::SaveSnapshot>("saveSnapshot"),
      InstanceMethod<&Model::RestoreSnapshot>("restoreSnapshot"),
      InstanceMethod<&Model::Dispose>("dispose"),
  });
  constructor_ = new Napi::FunctionReference(Napi::Persistent(f));
  return f;
}

Napi::Object Model::New(Napi::Env env, std::shared_ptr<EngineHolder> holder) {
  Napi::Object o = constructor_->New({});
  Model::Unwrap(o)->holder_ = std::move(holder);
  return o;
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {}

std::shared_ptr<EngineHolder> Model::holder() {
  if (!holder_) throw Napi::Error::New(Env(), "model was disposed");
  return holder_;
}

Napi::Value Model::Info(const Napi::CallbackInfo& info) {
  return model_info(info.Env(), holder()->engine->info());
}

Napi::Value Model::MemoryStats(const Napi::CallbackInfo& info) {
  auto h = holder();
  kk::Engine::MemoryStats s = h->engine->memory_stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("weightsBytes", static_cast<double>(s.weights_bytes));
  o.Set("kvBytesUsed", static_cast<double>(s.kv_bytes_used));
  o.Set("kvBytesCapacity", static_cast<double>(s.kv_bytes_capacity));
  o.Set("rssBytes", static_cast<double>(s.rss_bytes));
  return o;
}

Napi::Value Model::Dispose(const Napi::CallbackInfo& info) {
  holder_.reset();
  return info.Env().Undefined();
}

// generateRaw(promptIds, options, onEvent) -> { promise, cancel() }
// onEvent gets each new token id (a number) and, during prefill, { stage: 'prefill', fraction, done,
// total } after each prompt chunk. The TypeScript wrapper (main/engine/native.ts) splits the two
// and turns an AbortSignal into cancel().
Napi::Value Model::Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto h = holder();
  if (info.Length() < 3 || !info[2].IsFunction()) throw Napi::TypeError::New(env, "generate(promptIds, options, onToken)");
  std::vector<int32_t> prompt = ids_arg(info[0], "promptIds");
  if (prompt.empty()) throw Napi::RangeError::New(env, "promptIds must not be empty");
  kk::SamplingParams sp = sampling_params(info[1]);
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  auto result = std::make_shared<kk::GenerateResult>();

  Work work = [h, prompt, sp, cancelled, result](const Emit& emit) {
    // No lock: the engine's scheduler batches concurrent requests (continuous batching).
    if (cancelled->load()) { result->finish_reason = "cancelled"; return kk::Status::OK(); }
    return h->engine->generate(prompt, sp, [&](int32_t tok) {
      Event e; e.token = tok; emit(e);
      return !cancelled->load();
    }, result.get(), [&](int done, int total) {
      Event e; e.stage = "prefill"; e.fraction = total > 0 ? double(done) / total : 1.0;
      e.done = done; e.total = total; emit(e);
    });
  };
  Resolve resolve = [result](Napi::Env env) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    Napi::Array ids = Napi::Array::New(env, result->output_ids.size());
    for (size_t i = 0; i < result->output_ids.size(); ++i) ids.Set(static_cast<uint32_t>(i), result->output_ids[i]);
    o.Set("outputIds", ids);
    o.Set("finishReason", result->finish_reason);
    o.Set("promptTokens", result->prompt_tokens);
    o.Set("completionTokens", result->completion_tokens);
    o.Set("cachedTokens", result->cached_tokens);
    o.Set("prefillMs", result->prefill_ms);
    o.Set("decodeMs", result->decode_ms);
    return o;
  };
  Napi::Object ret = Napi::Object::New(env);
  ret.Set("promise", run_async(env, work, resolve, info[2].As<Napi::Function>()));
  ret.Set("cancel", Napi::Function::New(env, [cancelled](const Napi::CallbackInfo& ci) {
    cancelled->store(true);
    return ci.Env().Undefined();
  }));
  return ret;
}

// saveSnapshot(promptIds, path) -> Promise<number>: the cached KV of the longest cached prefix of
// promptIds written to path; resolves with the tokens saved. Off the JS thread (the file may be GBs).
Napi::Value Model::SaveSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto h = holder();
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(env, "saveSnapshot(promptIds, path)");
  std::vector<int32_t> prompt = ids_arg(info[0], "promptIds");
  std::string path = info[1].As<Napi::String>().Utf8Value();
  auto n = std::make_shared<int64_t>(0);
  Work work = [h, prompt, path, n](const Emit&) { return h->engine->save_snapshot(prompt, path, n.get()); };
  Resolve resolve = [n](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, static_cast<double>(*n)); };
  return run_async(env, work, resolve);
}

// restoreSnapshot(path, promptIds) -> Promise<number>: a snapshot read back into the prefix cache
// (refused, with the engine's message, when it is not this model's or not a prefix of promptIds);
// resolves with the tokens restored.
Napi::Value Model::RestoreSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto h = holder();
  if (info.Length() < 2 || !info[0].IsString()) throw Napi::TypeError::New(env, "restoreSnapshot(path, promptIds)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::vector<int32_t> prompt = ids_arg(info[1], "promptIds");
  auto n = std::make_shared<int64_t>(0);
  Work work = [h, prompt, path, n](const Emit&) { return h->engine->restore_snapshot(path, prompt, n.get()); };
  Resolve resolve = [n](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, static_cast<double>(*n)); };
  return run_async(env, work, resolve);
}

}  // namespace kkjs

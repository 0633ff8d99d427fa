// model.cpp — NativeModel methods: info, memoryStats, cacheStats, KV snapshots (save / restore),
// dispose (generate: generate.cpp).
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
      InstanceMethod<&Model::CacheStats>("cacheStats"),
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

// cacheStats() -> the prefix cache and scheduler now: blocks, cached tokens, running / waiting
// requests, and the prompt tokens served from the cache since load.
Napi::Value Model::CacheStats(const Napi::CallbackInfo& info) {
  const kk::Engine::CacheStats s = holder()->engine->cache_stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("blockTokens", static_cast<double>(s.block_tokens));
  o.Set("blocksTotal", static_cast<double>(s.blocks_total));
  o.Set("blocksFree", static_cast<double>(s.blocks_free));
  o.Set("cachedTokens", static_cast<double>(s.cached_tokens));
  o.Set("bytesPerToken", static_cast<double>(s.bytes_per_token));
  o.Set("running", static_cast<double>(s.running));
  o.Set("waiting", static_cast<double>(s.waiting));
  o.Set("hitTokens", static_cast<double>(s.hit_tokens));
  o.Set("promptTokens", static_cast<double>(s.prompt_tokens));
  return o;
}

Napi::Value Model::Dispose(const Napi::CallbackInfo& info) {
  holder_.reset();
  return info.Env().Undefined();
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

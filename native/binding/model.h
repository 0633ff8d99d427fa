// model.h — the JS `NativeModel`: one loaded engine; generations run at once through its scheduler.
#pragma once
#include <napi.h>
#include <atomic>
#include <memory>
#include <mutex>
#include "karakoram/engine.h"

namespace kkjs {

// Shared between the JS object and in-flight workers, so dispose() during a generation is safe:
// the engine is freed when the last user lets go.
struct EngineHolder {
  std::unique_ptr<kk::Engine> engine;
};

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::Object New(Napi::Env env, std::shared_ptr<EngineHolder> holder);
  explicit Model(const Napi::CallbackInfo& info);

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Generate(const Napi::CallbackInfo& info);
  Napi::Value MemoryStats(const Napi::CallbackInfo& info);
  Napi::Value CacheStats(const Napi::CallbackInfo& info);
  Napi::Value SaveSnapshot(const Napi::CallbackInfo& info);
  Napi::Value RestoreSnapshot(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  std::shared_ptr<EngineHolder> holder();  // throws if disposed

  std::shared_ptr<EngineHolder> holder_;
  static Napi::FunctionReference* constructor_;
};

}  // namespace kkjs

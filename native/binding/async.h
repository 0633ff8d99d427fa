// async.h — run engine work off the JS thread, stream progress back, settle a Promise.
// Every engine call from JS goes through here: the event loop never blocks on the engine, and an
// engine error becomes a rejected Promise with the engine's message (the process never aborts).
#pragma once
#include <napi.h>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "core/status.h"

namespace kkjs {

// A message from the worker thread to JS: a progress/token callback argument.
struct Event {
  int32_t token = -1;          // generate: a new token id
  std::string stage, line;     // load/synth: stage + fraction; eval: a printed line
  double fraction = 0;
  int done = -1, total = -1;   // generate's 'prefill' stage: prompt tokens processed of total
};

using Emit = std::function<void(const Event&)>;
// Runs on the worker thread. Returns the status; fills `result` via the resolver set below.
using Work = std::function<kk::Status(const Emit& emit)>;
// Runs on the JS thread after success: builds the resolved value.
using Resolve = std::function<Napi::Value(Napi::Env env)>;

class Worker : public Napi::AsyncProgressQueueWorker<Event> {
 public:
  Worker(Napi::Env env, Work work, Resolve resolve, Napi::Function on_event)
      : Napi::AsyncProgressQueueWorker<Event>(env), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), resolve_(std::move(resolve)) {
    if (!on_event.IsEmpty()) on_event_ = Napi::Persistent(on_event);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute(const ExecutionProgress& progress) override {
    kk::Status s = work_([&](const Event& e) { progress.Send(&e, 1); });
    if (!s.ok()) SetError(s.message());
  }
  void OnProgress(const Event* data, size_t count) override {
    if (on_event_.IsEmpty()) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (size_t i = 0; i < count; ++i) {
      const Event& e = data[i];
      Napi::Value arg;
      if (e.token >= 0) arg = Napi::Number::New(env, e.token);
      else if (!e.line.empty()) arg = Napi::String::New(env, e.line);
      else {
        Napi::Object o = Napi::Object::New(env);
        o.Set("stage", e.stage);
        o.Set("fraction", e.fraction);
        if (e.total >= 0) { o.Set("done", e.done); o.Set("total", e.total); }
        arg = o;
      }
      // A throwing JS callback must not tear down the worker; report it once the work settles.
      try { on_event_.Call({arg}); } catch (const Napi::Error& err) { callback_error_ = err.Message(); }
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!callback_error_.empty()) { deferred_.Reject(Napi::Error::New(env, "callback threw: " + callback_error_).Value()); return; }
    deferred_.Resolve(resolve_ ? resolve_(env) : env.Undefined());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Resolve resolve_;
  Napi::FunctionReference on_event_;
  std::string callback_error_;
};

// Queues the work and returns its Promise.
inline Napi::Promise run_async(Napi::Env env, Work work, Resolve resolve, Napi::Function on_event = Napi::Function()) {
  auto* w = new Worker(env, std::move(work), std::move(resolve), on_event);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// Option readers: JS objects -> C++ structs, with type errors thrown as JS TypeErrors.
inline double num_opt(const Napi::Object& o, const char* key, double dflt) {
  if (!o.Has(key) || o.Get(key).IsUndefined() || o.Get(key).IsNull()) return dflt;
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
inline std::string str_opt(const Napi::Object& o, const char* key, const std::string& dflt) {
  if (!o.Has(key) || o.Get(key).IsUndefined() || o.Get(key).IsNull()) return dflt;
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}
inline bool bool_opt(const Napi::Object& o, const char* key, bool dflt) {
  if (!o.Has(key) || o.Get(key).IsUndefined() || o.Get(key).IsNull()) return dflt;
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}
inline std::vector<int32_t> ids_arg(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  std::vector<int32_t> ids;
  if (v.IsTypedArray()) {
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_int32_array && ta.TypedArrayType() != napi_uint32_array)
      throw Napi::TypeError::New(env, std::string(what) + " must be an array of token ids");
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    ids.assign(a.Data(), a.Data() + a.ElementLength());
    return ids;
  }
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of token ids");
  Napi::Array a = v.As<Napi::Array>();
  ids.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must contain only numbers");
    double d = e.As<Napi::Number>().DoubleValue();
    if (d < 0 || d != static_cast<int32_t>(d)) throw Napi::TypeError::New(env, std::string(what) + " must contain non-negative integers");
    ids.push_back(static_cast<int32_t>(d));
  }
  return ids;
}

}  // namespace kkjs

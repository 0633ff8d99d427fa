// generate.cpp — NativeModel.generateRaw: one request submitted to the engine's scheduler
// (continuous batching), its tokens and prefill progress streamed back to JS through a
// thread-safe function, its result settling a Promise. Nothing waits on a libuv worker thread,
// so any number of generations run at once (the scheduler batches them; more than its
// max_sequences wait in its queue) and the other async calls (snapshots, load) are never starved.
#include <atomic>
#include <mutex>
#include "async.h"
#include "model.h"
#include "options.h"

namespace kkjs {
namespace {

// One generation, shared by the scheduler's callbacks (its thread) and the JS thread.
struct GenState {
  std::shared_ptr<EngineHolder> holder;  // the engine stays alive while the request runs
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction tsfn;
  std::atomic<bool> cancelled{false};
  std::atomic<kk::Engine::RequestId> id{0};
  kk::Status status;
  kk::GenerateResult result;
  std::string callback_error;  // a throwing JS callback: reported when the request settles
  explicit GenState(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

// A message to the JS thread: an event, or the request's end.
struct GenMsg {
  Event ev;
  std::shared_ptr<GenState> st;
  bool done = false;
};

Napi::Object result_object(Napi::Env env, const kk::GenerateResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array ids = Napi::Array::New(env, r.output_ids.size());
  for (size_t i = 0; i < r.output_ids.size(); ++i) ids.Set(static_cast<uint32_t>(i), r.output_ids[i]);
  o.Set("outputIds", ids);
  o.Set("finishReason", r.finish_reason);
  o.Set("promptTokens", r.prompt_tokens);
  o.Set("completionTokens", r.completion_tokens);
  o.Set("cachedTokens", r.cached_tokens);
  o.Set("prefillMs", r.prefill_ms);
  o.Set("decodeMs", r.decode_ms);
  return o;
}

Napi::Value event_value(Napi::Env env, const Event& e) {
  if (e.token >= 0) return Napi::Number::New(env, e.token);
  Napi::Object o = Napi::Object::New(env);
  o.Set("stage", e.stage);
  o.Set("fraction", e.fraction);
  o.Set("done", e.done);
  o.Set("total", e.total);
  return o;
}

// On the JS thread, in the order the scheduler sent them.
void deliver(Napi::Env env, Napi::Function on_event, GenMsg* m) {
  GenState* st = m->st.get();
  if (env != nullptr) {
    if (m->done) {
      GenState& s = *st;
      if (!s.callback_error.empty()) s.deferred.Reject(Napi::Error::New(env, "callback threw: " + s.callback_error).Value());
      else if (!s.status.ok()) s.deferred.Reject(Napi::Error::New(env, s.status.message()).Value());
      else s.deferred.Resolve(result_object(env, s.result));
      s.holder.reset();  // the last reference to the engine goes on the JS thread, never the scheduler's
      s.tsfn.Release();
    } else if (st->callback_error.empty()) {
      try {
        on_event.Call({event_value(env, m->ev)});
      } catch (const Napi::Error& err) {
        st->callback_error = err.Message();
        st->cancelled = true;
        if (st->holder) st->holder->engine->cancel(st->id.load());
      }
    }
  }
  delete m;
}

}  // namespace

// generateRaw(promptIds, options, onEvent) -> { promise, cancel() }
// onEvent gets each new token id (a number) and, during prefill, { stage: 'prefill', fraction, done,
// total } after each prompt chunk. The TypeScript wrapper (main/engine/native.ts) splits the two
// and turns an AbortSignal into cancel().
Napi::Value Model::Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto h = holder();
  if (info.Length() < 3 || !info[2].IsFunction()) throw Napi::TypeError::New(env, "generate(promptIds, options, onToken)");
  kk::Engine::Request req;
  req.prompt = ids_arg(info[0], "promptIds");
  if (req.prompt.empty()) throw Napi::RangeError::New(env, "promptIds must not be empty");
  req.sampling = sampling_params(info[1]);
  if (info[1].IsObject()) req.priority = static_cast<int>(num_opt(info[1].As<Napi::Object>(), "priority", 0));

  auto st = std::make_shared<GenState>(env);
  st->holder = h;
  st->tsfn = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "karakoram-generate", 0, 1);
  // Runs on the scheduler's thread: quick (queues the message), never blocks.
  GenState* raw = st.get();
  auto send = [raw](GenMsg* m) {
    if (raw->tsfn.NonBlockingCall(m, [](Napi::Env e, Napi::Function f, GenMsg* msg) { deliver(e, f, msg); }) != napi_ok)
      delete m;  // the environment is going away
  };
  kk::Engine::Callbacks cb;
  cb.on_token = [st, send](int32_t tok) {
    auto* m = new GenMsg;
    m->ev.token = tok;
    m->st = st;
    send(m);
    return !st->cancelled.load();
  };
  cb.on_prefill = [st, send](int done, int total) {
    auto* m = new GenMsg;
    m->st = st;
    m->ev.stage = "prefill";
    m->ev.fraction = total > 0 ? double(done) / total : 1.0;
    m->ev.done = done;
    m->ev.total = total;
    send(m);
  };
  cb.on_done = [st, send](const kk::Status& status, const kk::GenerateResult& r) {
    st->status = status;
    st->result = r;
    auto* m = new GenMsg;
    m->st = st;
    m->done = true;
    send(m);
  };
  kk::Engine::RequestId id = 0;
  const kk::Status s = h->engine->submit(std::move(req), std::move(cb), &id);
  Napi::Object ret = Napi::Object::New(env);
  ret.Set("promise", st->deferred.Promise());
  if (!s.ok()) {  // refused before it ran (empty or too long prompt, ids outside the vocabulary)
    st->deferred.Reject(Napi::Error::New(env, s.message()).Value());
    st->holder.reset();
    st->tsfn.Release();
  } else {
    st->id = id;
  }
  std::weak_ptr<GenState> weak = st;
  ret.Set("cancel", Napi::Function::New(env, [weak](const Napi::CallbackInfo& ci) {
    if (auto g = weak.lock()) {
      g->cancelled = true;
      if (g->holder) g->holder->engine->cancel(g->id.load());
    }
    return ci.Env().Undefined();
  }));
  return ret;
}

}  // namespace kkjs

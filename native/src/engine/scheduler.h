// scheduler.h — continuous batching over the engine's sequences (Orca / vLLM style).
// Requests wait in a priority queue; between steps up to max_running of them join the running
// set, each starting from the longest cached prefix of its prompt. Every step is one batched
// forward: one decode token for every sequence that is generating plus one chunk of the prompt
// of (at most) one sequence still reading it, so running streams keep flowing while a long prompt
// is read. A finished or cancelled request leaves at once; its tokens go to the prefix cache.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#include "karakoram/engine.h"
#include "sample/sampler.h"

namespace kk {

class EngineImpl;

class Scheduler {
 public:
  Scheduler(EngineImpl* engine, int max_running, int prefill_chunk);
  ~Scheduler();  // cancels what is left (each on_done still called) and joins the thread
  Status submit(Engine::Request req, Engine::Callbacks cb, Engine::RequestId* id);
  void cancel(Engine::RequestId id);
  int64_t running() const;
  int64_t waiting() const;
  // Runs one step on the calling thread (tests drive the scheduler step by step with this when
  // constructed with start_thread = false); false when there was nothing to do.
  bool step();
  void set_threaded(bool on);

 private:
  struct Active {
    Engine::RequestId id = 0;
    Engine::Request req;
    Engine::Callbacks cb;
    std::unique_ptr<Sampler> sampler;
    SeqId seq = -1;
    int64_t done = 0;       // prompt tokens whose KV is in the sequence
    bool decoding = false;  // prompt read; `next` is the token to feed
    int32_t next = -1;
    std::atomic<bool> cancelled{false};
    GenerateResult res;
    std::chrono::steady_clock::time_point t0, t_first;
    uint64_t order = 0;
  };
  void loop();
  void admit();
  void finish(Active* a, const Status& st, const char* reason);
  // Samples from the logits of a's last fed token; true while it goes on.
  bool take_token(Active* a, float* logits);

  EngineImpl* engine_;
  const int max_running_, prefill_chunk_;
  mutable std::mutex mu_;  // queue_ and the cancel flags' lookup
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Active>> queue_;      // waiting, in priority order
  std::vector<std::shared_ptr<Active>> running_;   // touched only by the stepping thread
  std::atomic<int64_t> n_running_{0};
  std::vector<std::weak_ptr<Active>> all_;         // for cancel()
  Engine::RequestId next_id_ = 1;
  uint64_t order_ = 0;
  bool stop_ = false, threaded_ = false;
  bool finished_since_idle_ = false;  // a request ended since the engine's last idle hook (stepping thread)
  std::thread thread_;
  std::mutex step_mu_;  // one step at a time
};

}  // namespace kk

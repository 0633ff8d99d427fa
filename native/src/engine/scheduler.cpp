// scheduler.cpp — admission, one batched step (decodes + one prefill chunk), sampling, retirement.
#include "engine/scheduler.h"
#include <algorithm>
#include "engine/engine_impl.h"

namespace kk {
namespace {
double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

Scheduler::Scheduler(EngineImpl* engine, int max_running, int prefill_chunk)
    : engine_(engine), max_running_(std::max(1, max_running)), prefill_chunk_(std::max(1, prefill_chunk)) {}

Scheduler::~Scheduler() {
  set_threaded(false);
  std::lock_guard<std::mutex> sg(step_mu_);
  std::deque<std::shared_ptr<Active>> q;
  {
    std::lock_guard<std::mutex> g(mu_);
    q.swap(queue_);
  }
  for (auto& a : q) finish(a.get(), Status::OK(), "cancelled");
  for (auto& a : running_) finish(a.get(), Status::OK(), "cancelled");
  running_.clear();
}

void Scheduler::set_threaded(bool on) {
  if (on == threaded_) return;
  if (on) {
    stop_ = false;
    threaded_ = true;
    thread_ = std::thread([this] { loop(); });
    return;
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  threaded_ = false;
}

Status Scheduler::submit(Engine::Request req, Engine::Callbacks cb, Engine::RequestId* id) {
  KK_RETURN_IF_ERROR(engine_->check_request(req.prompt));
  auto a = std::make_shared<Active>();
  a->req = std::move(req);
  a->cb = std::move(cb);
  a->t0 = std::chrono::steady_clock::now();
  a->res.prompt_tokens = int(a->req.prompt.size());
  {
    std::lock_guard<std::mutex> g(mu_);
    a->id = next_id_++;
    a->order = order_++;
    // Priority order: higher first, then arrival.
    auto it = std::find_if(queue_.begin(), queue_.end(),
                           [&](const std::shared_ptr<Active>& w) { return w->req.priority < a->req.priority; });
    queue_.insert(it, a);
    all_.erase(std::remove_if(all_.begin(), all_.end(), [](const std::weak_ptr<Active>& w) { return w.expired(); }),
               all_.end());
    all_.push_back(a);
    if (id) *id = a->id;
  }
  cv_.notify_all();
  return Status::OK();
}

void Scheduler::cancel(Engine::RequestId id) {
  {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& w : all_)
      if (auto a = w.lock())
        if (a->id == id) a->cancelled = true;
  }
  cv_.notify_all();
}

int64_t Scheduler::running() const { return n_running_.load(); }
int64_t Scheduler::waiting() const {
  std::lock_guard<std::mutex> g(mu_);
  return int64_t(queue_.size());
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> g(mu_);
      cv_.wait(g, [&] { return stop_ || !queue_.empty() || n_running_.load() > 0; });
      if (stop_) return;
    }
    step();
    // Nothing running or waiting after requests ended: the engine's between-requests work
    // (the CUDA backend's expert re-placement) runs here, never inside a step.
    if (finished_since_idle_ && n_running_.load() == 0 && waiting() == 0) {
      finished_since_idle_ = false;
      engine_->between_requests();
    }
  }
}

// Moves waiting requests into the running set while there is room; each starts from the longest
// cached prefix of its prompt (all but the last token: its logits are what the request needs).
void Scheduler::admit() {
  while (int(running_.size()) < max_running_) {
    std::shared_ptr<Active> a;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (queue_.empty()) break;
      a = queue_.front();
      queue_.pop_front();
    }
    if (a->cancelled) { finish(a.get(), Status::OK(), "cancelled"); continue; }
    a->sampler.reset(new Sampler(a->req.sampling, a->req.prompt));
    Status st = engine_->open_sequence(a->req.prompt, &a->seq, &a->done);
    if (!st.ok()) { finish(a.get(), st, ""); continue; }
    a->res.cached_tokens = int(a->done);
    running_.push_back(a);
    n_running_ = int64_t(running_.size());
  }
}

void Scheduler::finish(Active* a, const Status& st, const char* reason) {
  const auto now = std::chrono::steady_clock::now();
  if (reason[0]) a->res.finish_reason = reason;
  if (a->res.output_ids.empty()) {
    a->res.prefill_ms = ms_between(a->t0, now);
  } else {
    a->res.prefill_ms = ms_between(a->t0, a->t_first);
    a->res.decode_ms = ms_between(a->t_first, now);
  }
  if (a->seq >= 0) engine_->close_sequence(a->seq, st.ok());
  a->seq = -1;
  a->decoding = false;
  a->cancelled = true;  // done: nothing more happens to it
  finished_since_idle_ = true;
  if (a->cb.on_done) a->cb.on_done(st, a->res);
  a->cb = Engine::Callbacks();
}

bool Scheduler::take_token(Active* a, float* logits) {
  const SamplingParams& sp = a->req.sampling;
  if (sp.max_tokens <= 0) { finish(a, Status::OK(), "length"); return false; }
  const int32_t id = a->sampler->next(logits, engine_->model().config().vocab_size);
  if (a->res.output_ids.empty()) a->t_first = std::chrono::steady_clock::now();
  a->res.output_ids.push_back(id);
  a->res.completion_tokens++;
  if (a->cb.on_token && !a->cb.on_token(id)) { finish(a, Status::OK(), "cancelled"); return false; }
  if (a->sampler->is_stop(id)) { finish(a, Status::OK(), "stop"); return false; }
  if (a->res.completion_tokens >= sp.max_tokens || engine_->sequence_length(a->seq) >= engine_->max_context()) {
    finish(a, Status::OK(), "length");
    return false;
  }
  a->next = id;
  a->decoding = true;
  return true;
}

bool Scheduler::step() {
  std::lock_guard<std::mutex> sg(step_mu_);
  admit();
  for (auto& a : running_)
    if (a->cancelled && a->seq >= 0) finish(a.get(), Status::OK(), "cancelled");
  auto gone = [](const std::shared_ptr<Active>& a) { return a->seq < 0; };
  running_.erase(std::remove_if(running_.begin(), running_.end(), gone), running_.end());
  n_running_ = int64_t(running_.size());
  if (running_.empty()) return false;

  // The batch: every decoding sequence's next token, then one prompt chunk of the earliest reader.
  std::vector<EngineImpl::StepItem> items;
  std::vector<Active*> who;
  Active* reader = nullptr;
  for (auto& a : running_) {
    if (a->decoding) { items.push_back({a->seq, &a->next, 1}); who.push_back(a.get()); }
    else if (!reader || a->order < reader->order) reader = a.get();
  }
  int64_t chunk = 0;
  if (reader) {
    chunk = std::min<int64_t>(prefill_chunk_, int64_t(reader->req.prompt.size()) - reader->done);
    items.push_back({reader->seq, reader->req.prompt.data() + reader->done, int(chunk)});
    who.push_back(reader);
  }
  std::vector<std::vector<float>> logits;
  int failed = -1;
  const Status st = engine_->run_step(items, &logits, &failed);
  if (!st.ok()) {
    // A request that cannot fit fails alone (clear message); any other failure fails the step's.
    if (failed >= 0) finish(who[failed], st, "");
    else for (Active* a : who) finish(a, st, "");
    return true;
  }
  for (size_t i = 0; i < who.size(); ++i) {
    Active* a = who[i];
    if (a == reader) {
      a->done += chunk;
      const int total = int(a->req.prompt.size());
      if (a->cb.on_prefill) a->cb.on_prefill(int(a->done), total);
      if (a->done == total) take_token(a, logits[i].data());
    } else {
      take_token(a, logits[i].data());
    }
  }
  running_.erase(std::remove_if(running_.begin(), running_.end(), gone), running_.end());
  n_running_ = int64_t(running_.size());
  return true;
}

}  // namespace kk

#include "http/frontend.h"

#include <algorithm>

#include "http/session.h"

namespace fulcrum::http {

namespace {
constexpr uint64_t kQueuePollMs = 5;
}

HttpFrontend::HttpFrontend(upstream::WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive)
    : ctx_(ctx),
      keepalive_(std::move(keepalive)),
      acceptor_(ctx, fd, [this](core::Fd client) { onAccepted(std::move(client)); }),
      pool_(ctx),
      rng_(upstream::pickerSeed(ctx.worker_index, 0x4854545000ULL)),
      queue_poll_([this] { pollQueue(); }) {}

HttpFrontend::~HttpFrontend() { stop(); }

void HttpFrontend::update(std::shared_ptr<const ListenerRuntime> runtime) {
  runtime_ = std::move(runtime);
  // Pickers of pools the new runtime no longer uses go; sessions still on an older runtime
  // get a fresh one if they need it.
  std::unordered_map<const upstream::Cluster*, PickerEntry> kept;
  auto keep = [&](const RouteTarget& t) {
    for (const auto& c : t.clusters) {
      auto it = pickers_.find(c.get());
      if (it != pickers_.end()) {
        kept.emplace(it->first, std::move(it->second));
        pickers_.erase(it);
      }
    }
  };
  for (const auto& t : runtime_->targets) {
    keep(t);
  }
  keep(runtime_->default_target);
  pickers_ = std::move(kept);
}

balance::Picker& HttpFrontend::picker(const std::shared_ptr<const upstream::Cluster>& cluster) {
  auto it = pickers_.find(cluster.get());
  if (it != pickers_.end()) {
    return *it->second.picker;
  }
  PickerEntry e{cluster, cluster->balancer->makePicker(upstream::pickerSeed(ctx_.worker_index, ++ctx_.picker_generation))};
  return *pickers_.emplace(cluster.get(), std::move(e)).first->second.picker;
}

bool HttpFrontend::start() { return acceptor_.start(); }

void HttpFrontend::stop(bool takePending) {
  acceptor_.stop(takePending);
  pool_.closeAll();
  keepalive_.reset();
}

void HttpFrontend::onAccepted(core::Fd client) {
  auto* s = new HttpSession(ctx_, shared_from_this(), std::move(client));
  s->start();
}

bool HttpFrontend::enqueue(HttpSession* s, size_t limit) {
  if (queue_.size() >= limit) {
    return false;
  }
  queue_.push_back(s);
  if (!queue_poll_.armed()) {
    ctx_.loop.timers().schedule(queue_poll_, kQueuePollMs);
  }
  return true;
}

void HttpFrontend::dequeue(HttpSession* s) {
  auto it = std::find(queue_.begin(), queue_.end(), s);
  if (it != queue_.end()) {
    queue_.erase(it);
  }
  if (queue_.empty()) {
    ctx_.loop.timers().cancel(queue_poll_);
  }
}

void HttpFrontend::onRequestDone() {
  if (in_queue_pass_ || queue_.empty() || ctx_.closing_all) {
    return;
  }
  in_queue_pass_ = true;
  // Each waiter checks its own pool; one that still cannot go keeps its place.
  std::deque<HttpSession*> waiting;
  waiting.swap(queue_);
  while (!waiting.empty()) {
    HttpSession* s = waiting.front();
    waiting.pop_front();
    if (!s->retryFromQueue()) {
      queue_.push_back(s);
    }
  }
  in_queue_pass_ = false;
  if (queue_.empty()) {
    ctx_.loop.timers().cancel(queue_poll_);
  }
}

void HttpFrontend::pollQueue() {
  onRequestDone();
  if (!queue_.empty()) {
    ctx_.loop.timers().schedule(queue_poll_, kQueuePollMs);
  }
}

}  // namespace fulcrum::http

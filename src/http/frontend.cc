#include "http/frontend.h"

#include <algorithm>

#include "http/session.h"

namespace fulcrum::http {

HttpFrontend::HttpFrontend(upstream::WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive)
    : ctx_(ctx),
      keepalive_(std::move(keepalive)),
      acceptor_(ctx, fd, [this](core::Fd client, const sockaddr_storage& peer) { onAccepted(std::move(client), peer); }),
      pool_(ctx),
      rng_(upstream::pickerSeed(ctx.worker_index, 0x4854545000ULL)),
      queue_(ctx.loop, false) {}

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

void HttpFrontend::onAccepted(core::Fd client, const sockaddr_storage& peer) {
  auto* s = new HttpSession(ctx_, shared_from_this(), std::move(client), peer);
  s->start();
}

}  // namespace fulcrum::http

#include "http/frontend.h"

#include <algorithm>

#include "http/session.h"

namespace fulcrum::http {

HttpFrontend::HttpFrontend(upstream::WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive)
    : ctx_(ctx),
      keepalive_(std::move(keepalive)),
      acceptor_(ctx, fd, [this](core::Fd client, const sockaddr_storage& peer) { onAccepted(std::move(client), peer); }),
      pickers_(ctx.worker_index, ctx.picker_generation),
      pool_(ctx),
      rng_(upstream::pickerSeed(ctx.worker_index, 0x4854545000ULL)),
      queue_(ctx.loop, false) {}

HttpFrontend::~HttpFrontend() { stop(); }

void HttpFrontend::update(std::shared_ptr<const ListenerRuntime> runtime) {
  runtime_ = std::move(runtime);
  // Pickers of pools the new runtime no longer uses go; those of the others stay and follow
  // their pool's new balancer at its next pick.
  auto uses = [&](const upstream::PoolState* pool) {
    auto in = [&](const RouteTarget& t) {
      return std::any_of(t.clusters.begin(), t.clusters.end(),
                         [&](const auto& c) { return c->pool_state.get() == pool; });
    };
    return in(runtime_->default_target) || std::any_of(runtime_->targets.begin(), runtime_->targets.end(), in);
  };
  pickers_.retainOnly(uses);
}

bool HttpFrontend::start() { return acceptor_.start(); }

void HttpFrontend::stop(bool takePending) {
  acceptor_.stop(takePending);
  pool_.closeAll();
  keepalive_.reset();
}

void HttpFrontend::onAccepted(core::Fd client, const sockaddr_storage& peer) {
  if (guard_ && !guard_->admit(peer)) {
    return;  // (the connection closes with `client`)
  }
  auto* s = new HttpSession(ctx_, shared_from_this(), std::move(client), peer);
  if (guard_) {
    guard_->add(*s, peer);
  }
  s->start();
  if (ctx_.closing_keepalive) {
    s->drain();  // one answer, then closed: this instance is being withdrawn
  }
}

}  // namespace fulcrum::http

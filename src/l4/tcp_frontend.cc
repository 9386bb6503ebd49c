#include "l4/tcp_frontend.h"

#include <algorithm>

#include "l4/tcp_session.h"

namespace fulcrum::l4 {

TcpFrontend::TcpFrontend(WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive)
    : ctx_(ctx),
      keepalive_(std::move(keepalive)),
      acceptor_(ctx, fd, [this](core::Fd client, const sockaddr_storage& peer) { onAccepted(std::move(client), peer); }),
      pickers_(ctx.worker_index, ctx.picker_generation),
      queue_(ctx.loop, true) {}

TcpFrontend::~TcpFrontend() { stop(); }

void TcpFrontend::update(std::shared_ptr<const ListenerRuntime> runtime) {
  runtime_ = std::move(runtime);
  // A listener sends to its pool and its SNI routes' pools: a reload that names others drops the
  // old ones' pickers.
  std::vector<const upstream::PoolState*> pools;
  for (const auto& cluster : runtime_->sni_clusters) {
    pools.push_back(cluster->pool_state.get());
  }
  if (runtime_->cluster) {
    pools.push_back(runtime_->cluster->pool_state.get());
  }
  pickers_.retainOnly([&pools](const upstream::PoolState* p) {
    return std::find(pools.begin(), pools.end(), p) != pools.end();
  });
  if (runtime_->cluster) {
    picker(runtime_->cluster);
  }
}

bool TcpFrontend::start() { return acceptor_.start(); }

void TcpFrontend::stop(bool takePending) {
  acceptor_.stop(takePending);
  // Sessions keep this frontend alive; they must not keep the listening socket open
  // (a closed listener refuses at once, an open one that no one accepts on hangs).
  keepalive_.reset();
}

void TcpFrontend::onAccepted(core::Fd client, const sockaddr_storage& peer) {
  auto* s = new TcpSession(ctx_, shared_from_this(), runtime_, std::move(client), peer);
  s->start();
}

}  // namespace fulcrum::l4

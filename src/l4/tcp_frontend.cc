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
  // A listener sends to one pool: a reload that names another drops the old one's picker.
  const upstream::PoolState* pool = runtime_->cluster->pool_state.get();
  pickers_.retainOnly([pool](const upstream::PoolState* p) { return p == pool; });
  picker(runtime_->cluster);
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

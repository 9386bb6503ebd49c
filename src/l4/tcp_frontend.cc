#include "l4/tcp_frontend.h"

#include <algorithm>

#include "l4/tcp_session.h"

namespace fulcrum::l4 {

TcpFrontend::TcpFrontend(WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive)
    : ctx_(ctx),
      keepalive_(std::move(keepalive)),
      acceptor_(ctx, fd, [this](core::Fd client, const sockaddr_storage& peer) { onAccepted(std::move(client), peer); }),
      queue_(ctx.loop, true) {}

TcpFrontend::~TcpFrontend() { stop(); }

void TcpFrontend::update(std::shared_ptr<const ListenerRuntime> runtime) {
  runtime_ = std::move(runtime);
  picker(runtime_->cluster);
}

balance::Picker& TcpFrontend::picker(const std::shared_ptr<const upstream::Cluster>& cluster) {
  if (cluster == picker_cluster_) {
    return *picker_;
  }
  if (cluster == old_cluster_) {
    return *old_picker_;
  }
  auto made = cluster->balancer->makePicker(pickerSeed(ctx_.worker_index, ++ctx_.picker_generation));
  if (runtime_ && cluster == runtime_->cluster) {
    // The new current cluster; the previous one stays for sessions still retrying on it.
    // Pickers point into their cluster's balancer: replace the picker before the cluster.
    old_picker_ = std::move(picker_);
    old_cluster_ = std::move(picker_cluster_);
    picker_ = std::move(made);
    picker_cluster_ = cluster;
    return *picker_;
  }
  old_picker_ = std::move(made);
  old_cluster_ = cluster;
  return *old_picker_;
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

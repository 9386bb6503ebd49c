#include "http/tunnel.h"

#include <string>

namespace fulcrum::http {

Tunnel::Tunnel(upstream::WorkerContext& ctx, std::unique_ptr<UpstreamConn> server, const upstream::Host* host,
               std::string_view toClient, std::string_view toServer)
    : ctx_(ctx),
      server_(std::move(server)),
      host_(host),
      up_(ctx.buffers, ctx.pipes),
      down_(ctx.buffers, ctx.pipes) {
  std::string down(toClient);
  down.append(server_->in.view());
  server_->in.release();
  down_.preload(down);
  if (!toServer.empty()) {
    up_.preload(toServer);
  }
}

Tunnel::~Tunnel() { close(true); }

void Tunnel::onServerEvents(uint32_t events) {
  if (server_) {
    server_->noteReadiness(events);
  }
}

Tunnel::State Tunnel::run(ClientConnection& client, uint64_t& moved, stats::Traffic& listener) {
  uint64_t up = 0;
  uint64_t down = 0;
  UpstreamConn& server = *server_;
  auto a = up_.run(*client.transport, client.readable, client.hup, *server.transport, server.writable, up);
  if (a == net::Pump::State::Error) {
    return up_.errorOnRead() ? State::ClientReset : State::ServerReset;
  }
  auto b = down_.run(*server.transport, server.readable, server.hup, *client.transport, client.writable, down);
  if (b == net::Pump::State::Error) {
    return down_.errorOnRead() ? State::ServerReset : State::ClientReset;
  }
  moved = up + down;
  if (moved > 0) {
    listener.bytes_in.add(up);
    listener.bytes_out.add(down);
    if (host_) {
      auto& hs = host_->state->traffic->worker(ctx_.worker_index);
      hs.bytes_out.add(up);
      hs.bytes_in.add(down);
    }
  }
  if (up_.done() && down_.done()) {
    return State::Done;
  }
  return a == net::Pump::State::Yield || b == net::Pump::State::Yield ? State::Yield : State::Waiting;
}

void Tunnel::close(bool reset) {
  up_.releaseAll();
  down_.releaseAll();
  discard(std::move(server_), reset);
}

}  // namespace fulcrum::http

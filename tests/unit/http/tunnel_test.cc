// Tunnel: the raw relay after a 101, over socketpairs for the client and the server: bytes
// read before the switch go first, then both ways, and the end of each stream passes on.
#include "http/tunnel.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../loopback.h"
#include "core/event_loop.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

struct Pair {
  Pair() { ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds); }
  int fds[2] = {-1, -1};
};

class TunnelRelay : public ::testing::Test {
 protected:
  TunnelRelay() : ctx(loop, 0) {
    client_peer = core::Fd(client.fds[1]);
    server_peer = core::Fd(server.fds[1]);
    conn = std::make_unique<ClientConnection>(core::Fd(client.fds[0]), ctx.buffers);
    conn->onEvents(EPOLLIN | EPOLLOUT);
    auto up = std::make_unique<UpstreamConn>(ctx, core::Fd(server.fds[0]), nullptr);
    tunnel = std::make_unique<Tunnel>(ctx, std::move(up), nullptr, "HTTP/1.1 101 Switching Protocols\r\n\r\n", "early");
    tunnel->onServerEvents(EPOLLIN | EPOLLOUT);
  }
  ~TunnelRelay() override {
    tunnel.reset();
    for (int i = 0; i < 3; ++i) {
      loop.runOnce(0);
    }
  }
  Tunnel::State run() {
    uint64_t moved = 0;
    conn->onEvents(EPOLLIN | EPOLLOUT);
    tunnel->onServerEvents(EPOLLIN | EPOLLOUT);
    return tunnel->run(*conn, moved, stats.worker(0));
  }

  core::EventLoop loop;
  upstream::WorkerContext ctx;
  Pair client, server;
  core::Fd client_peer, server_peer;
  std::unique_ptr<ClientConnection> conn;
  std::unique_ptr<Tunnel> tunnel;
  stats::TrafficSet stats{1};
};

}  // namespace

TEST_F(TunnelRelay, WhatWasReadBeforeTheSwitchGoesFirstThenBytesFlowBothWays) {
  EXPECT_EQ(run(), Tunnel::State::Waiting);
  std::string atClient, atServer;
  test::drain(client_peer.get(), atClient);
  test::drain(server_peer.get(), atServer);
  EXPECT_EQ(atClient, "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  EXPECT_EQ(atServer, "early") << "what the client sent behind its request";
  ASSERT_TRUE(test::sendAll(client_peer.get(), "ping"));
  ASSERT_TRUE(test::sendAll(server_peer.get(), "pong"));
  EXPECT_EQ(run(), Tunnel::State::Waiting);
  atClient.clear();
  atServer.clear();
  test::drain(client_peer.get(), atClient);
  test::drain(server_peer.get(), atServer);
  EXPECT_EQ(atServer, "ping");
  EXPECT_EQ(atClient, "pong");
  EXPECT_GE(stats.worker(0).bytes_in.get(), 4u) << "counted for the listener";
  EXPECT_GE(stats.worker(0).bytes_out.get(), 4u);
}

TEST_F(TunnelRelay, EachEndOfStreamPassesOnAndBothMakeItDone) {
  run();
  ::shutdown(client_peer.get(), SHUT_WR);
  EXPECT_EQ(run(), Tunnel::State::Waiting) << "one direction ended";
  std::string atServer;
  EXPECT_TRUE(test::drain(server_peer.get(), atServer)) << "the server sees the client's end";
  ::shutdown(server_peer.get(), SHUT_WR);
  EXPECT_EQ(run(), Tunnel::State::Done);
}

TEST_F(TunnelRelay, AServerGoneIsAServerReset) {
  run();
  server_peer.reset();
  ASSERT_TRUE(test::sendAll(client_peer.get(), "to nobody"));
  Tunnel::State s = Tunnel::State::Waiting;
  for (int i = 0; i < 20 && s != Tunnel::State::ServerReset; ++i) {
    s = run();
  }
  EXPECT_EQ(s, Tunnel::State::ServerReset);
}

// TcpSession on an EventLoop driven by a ManualClock: the client is one end of a socketpair,
// the servers are real loopback sockets, and timeouts (connect, idle, queue) fire when the
// test moves the clock, never by sleeping.
#include "l4/tcp_session.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "l4/tcp_frontend.h"
#include "../loopback.h"

using namespace fulcrum;
using namespace fulcrum::l4;
using test::acceptNow;
using test::drain;
using test::sendAll;

namespace {

class TcpSessionTest : public ::testing::Test {
 protected:
  TcpSessionTest() : loop(clock), ctx(loop, 0) {
    config = std::make_shared<config::Config>();
    config->timeouts.connect = std::chrono::milliseconds(1000);
    config->timeouts.idle = std::chrono::milliseconds(5000);
    config->timeouts.queue = std::chrono::milliseconds(2000);
    config::Listener l;
    l.name = "tcp";
    l.protocol = config::Protocol::Tcp;
    l.pool = "p";
    config->listeners.push_back(l);
    pool.name = "p";
  }

  ~TcpSessionTest() override {
    while (ctx.sessions != nullptr) {
      ctx.sessions->close("test end", true);
    }
    loop.runOnce(0);  // deferred deletes
  }

  void addServer(uint16_t port, bool backup = false, uint32_t maxConnections = 0) {
    config::Server s;
    s.address = test::loopbackAddress(port);
    s.backup = backup;
    s.max_connections = maxConnections;
    pool.servers.push_back(s);
  }

  // Builds the cluster and runtime from `pool` (once) and starts a session for a new client;
  // returns the test's end of the client socketpair.
  core::Fd connectClient() {
    if (!rt) {
      config->pools.push_back(pool);
      cluster = registry.build(pool, loop.nowMs(), true);
      auto r = std::make_shared<ListenerRuntime>();
      r->config = config;
      r->listener = &config->listeners[0];
      r->cluster = no_default ? nullptr : cluster;
      if (!config->listeners[0].sni_routes.empty()) {
        config->pools.push_back(sni_pool);
        sni_cluster = registry.build(sni_pool, loop.nowMs(), true);
        r->sni_clusters.push_back(sni_cluster);
      }
      r->stats = std::make_shared<stats::TrafficSet>(1);
      rt = r;
      frontend = std::make_shared<TcpFrontend>(ctx, -1, nullptr);
      frontend->update(rt);
    }
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    sockaddr_storage peer{};
    auto* in = reinterpret_cast<sockaddr_in*>(&peer);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (new TcpSession(ctx, frontend, rt, core::Fd(fds[0]), peer))->start();  // owned by the loop
    return core::Fd(fds[1]);
  }

  // Loop turns until pred() holds (test::spinUntil; bounded).
  bool spinUntil(const std::function<bool()>& pred) { return test::spinUntil(loop, pred); }
  // Moves the clock and lets the timers that are due fire.
  void pass(uint64_t ms) {
    clock.advanceMs(ms);
    loop.runOnce(0);
    loop.runOnce(0);
  }
  // Accepts the session's connection on `listener` (bounded wait).
  core::Fd acceptFrom(int listener) {
    core::Fd fd;
    spinUntil([&] {
      fd = acceptNow(listener);
      return fd.valid();
    });
    return fd;
  }
  // Reads from fd until it holds `want` or sees EOF; returns what arrived.
  std::string readUntil(int fd, const std::string& want, bool* eof = nullptr) {
    std::string got;
    bool closed = false;
    spinUntil([&] {
      closed = drain(fd, got) || closed;
      return closed || got.find(want) != std::string::npos;
    });
    if (eof != nullptr) {
      *eof = closed;
    }
    return got;
  }
  // True when fd sees EOF (or a reset) within the bounded spin.
  bool closedSoon(int fd) {
    std::string ignored;
    return spinUntil([&] { return drain(fd, ignored); });
  }
  upstream::HostState& host(size_t i) { return *cluster->hosts[i].state; }
  // The session saw its connect to server i complete (the kernel accepts before that).
  bool relayingTo(size_t i, uint64_t connections = 1) {
    return spinUntil([&] { return host(i).traffic->sum().connections >= connections; });
  }

  core::ManualClock clock;
  core::EventLoop loop;
  upstream::WorkerContext ctx;
  upstream::HostRegistry registry;
  std::shared_ptr<config::Config> config;
  config::Pool pool;
  std::shared_ptr<const upstream::Cluster> cluster;
  // SNI passthrough: one route (to sni_pool) when config->listeners[0].sni_routes is set.
  config::Pool sni_pool;
  std::shared_ptr<const upstream::Cluster> sni_cluster;
  bool no_default = false;
  std::shared_ptr<const ListenerRuntime> rt;
  std::shared_ptr<TcpFrontend> frontend;
};

}  // namespace

TEST_F(TcpSessionTest, RelaysBothWaysAndPassesEachHalfCloseOn) {
  core::Fd server = test::listenLoopback();
  addServer(test::localPort(server.get()));
  core::Fd client = connectClient();
  core::Fd conn = acceptFrom(server.get());
  ASSERT_TRUE(conn.valid());
  ASSERT_TRUE(sendAll(client.get(), "hello"));
  EXPECT_EQ(readUntil(conn.get(), "hello"), "hello");

  // The client is done sending: the server sees EOF, and may still answer.
  ASSERT_EQ(::shutdown(client.get(), SHUT_WR), 0);
  bool eof = false;
  EXPECT_EQ(readUntil(conn.get(), "<never>", &eof), "");
  EXPECT_TRUE(eof) << "the client's FIN is passed on";
  EXPECT_EQ(ctx.session_count, 1u) << "a half-closed session stays open for the other direction";
  ASSERT_TRUE(sendAll(conn.get(), "bye"));
  EXPECT_EQ(readUntil(client.get(), "bye"), "bye");

  // Now the server closes too: both directions are done, the session ends and frees its slot.
  conn.reset();
  EXPECT_TRUE(closedSoon(client.get()));
  EXPECT_TRUE(spinUntil([&] { return ctx.session_count == 0; }));
  EXPECT_EQ(host(0).active.load(), 0u);
  auto totals = rt->stats->sum();
  EXPECT_EQ(totals.bytes_in, 5u);
  EXPECT_EQ(totals.bytes_out, 3u);
}

TEST_F(TcpSessionTest, ConnectTimeoutMovesToTheNextServer) {
  test::Blackhole hole;
  ASSERT_TRUE(hole.ok) << "could not fill a listen queue";
  core::Fd backup = test::listenLoopback();
  addServer(hole.port);                                // picked first: the only primary
  addServer(test::localPort(backup.get()), /*backup=*/true);
  core::Fd client = connectClient();
  loop.runOnce(0);
  EXPECT_EQ(host(0).active.load(), 1u) << "connecting to the primary";
  pass(999);
  EXPECT_FALSE(acceptNow(backup.get()).valid()) << "1 ms before the connect timeout";
  EXPECT_EQ(host(0).connect_failures.load(), 0u);

  pass(1);
  EXPECT_EQ(host(0).connect_failures.load(), 1u);
  EXPECT_EQ(host(0).active.load(), 0u) << "the slot on the silent server is given back";
  EXPECT_EQ(host(0).traffic->sum().timeouts, 1u);
  core::Fd conn = acceptFrom(backup.get());
  ASSERT_TRUE(conn.valid()) << "the next server got the connection";
  EXPECT_EQ(host(1).active.load(), 1u);
  ASSERT_TRUE(sendAll(client.get(), "ping"));
  EXPECT_EQ(readUntil(conn.get(), "ping"), "ping");
}

TEST_F(TcpSessionTest, ARefusedConnectMovesOnWithoutWaiting) {
  core::Fd good = test::listenLoopback();
  addServer(test::refusingPort());
  addServer(test::localPort(good.get()), /*backup=*/true);
  core::Fd client = connectClient();
  core::Fd conn = acceptFrom(good.get());  // the clock never moves
  ASSERT_TRUE(conn.valid());
  EXPECT_EQ(host(0).connect_failures.load(), 1u);
  EXPECT_EQ(host(0).active.load(), 0u);
  ASSERT_TRUE(sendAll(conn.get(), "hi"));
  EXPECT_EQ(readUntil(client.get(), "hi"), "hi");
}

TEST_F(TcpSessionTest, GivesUpAfterOnePlusRetriesAttempts) {
  for (int i = 0; i < 4; ++i) {
    addServer(test::refusingPort());
  }
  pool.retries = 2;
  core::Fd client = connectClient();
  EXPECT_TRUE(closedSoon(client.get())) << "no server could be reached: the client is closed";
  uint64_t failures = 0;
  for (size_t i = 0; i < cluster->hosts.size(); ++i) {
    failures += host(i).connect_failures.load();
    EXPECT_EQ(host(i).active.load(), 0u);
  }
  EXPECT_EQ(failures, 3u) << "1 + retries attempts, each on another server";
  EXPECT_EQ(ctx.session_count, 0u);
}

TEST_F(TcpSessionTest, IdleTimeoutClosesAQuietConnectionWithoutSleeping) {
  core::Fd server = test::listenLoopback();
  addServer(test::localPort(server.get()));
  core::Fd client = connectClient();
  core::Fd conn = acceptFrom(server.get());
  ASSERT_TRUE(conn.valid());
  ASSERT_TRUE(relayingTo(0));
  pass(4000);
  ASSERT_TRUE(sendAll(client.get(), "x"));  // activity restarts the idle count
  EXPECT_EQ(readUntil(conn.get(), "x"), "x");
  pass(4000);
  std::string got;
  EXPECT_FALSE(drain(client.get(), got)) << "8 s open but only 4 s quiet (idle is 5 s)";
  EXPECT_EQ(ctx.session_count, 1u);
  pass(1000);
  EXPECT_TRUE(closedSoon(client.get())) << "5 s without a byte";
  EXPECT_TRUE(closedSoon(conn.get()));
  EXPECT_EQ(ctx.session_count, 0u);
  EXPECT_EQ(host(0).active.load(), 0u);
  EXPECT_EQ(host(0).traffic->sum().timeouts, 1u);
}

TEST_F(TcpSessionTest, AFullServerQueuesTheClientUntilASlotIsFreed) {
  core::Fd server = test::listenLoopback();
  addServer(test::localPort(server.get()), false, /*maxConnections=*/1);
  core::Fd first = connectClient();
  core::Fd conn1 = acceptFrom(server.get());
  ASSERT_TRUE(conn1.valid());
  core::Fd second = connectClient();
  for (int i = 0; i < 5; ++i) {
    loop.runOnce(1);
  }
  EXPECT_FALSE(acceptNow(server.get()).valid()) << "max_connections 1: the second one waits";
  EXPECT_EQ(cluster->pool_state->traffic->sum().queued, 1);

  // The first connection ends: its slot goes to the waiting one.
  first.reset();
  conn1.reset();
  core::Fd conn2 = acceptFrom(server.get());
  ASSERT_TRUE(conn2.valid());
  EXPECT_EQ(cluster->pool_state->traffic->sum().queued, 0);
  ASSERT_TRUE(sendAll(second.get(), "late"));
  EXPECT_EQ(readUntil(conn2.get(), "late"), "late");
}

TEST_F(TcpSessionTest, QueueTimeoutClosesAWaitingClient) {
  core::Fd server = test::listenLoopback();
  addServer(test::localPort(server.get()), false, /*maxConnections=*/1);
  core::Fd first = connectClient();
  core::Fd conn1 = acceptFrom(server.get());
  ASSERT_TRUE(conn1.valid());
  ASSERT_TRUE(relayingTo(0));
  core::Fd second = connectClient();
  loop.runOnce(0);
  pass(1999);
  std::string got;
  EXPECT_FALSE(drain(second.get(), got)) << "still waiting 1 ms before the queue timeout";
  pass(1);
  EXPECT_TRUE(closedSoon(second.get()));
  EXPECT_EQ(cluster->pool_state->traffic->sum().queue_timeouts, 1u);
  EXPECT_EQ(cluster->pool_state->traffic->sum().queued, 0);
  EXPECT_EQ(ctx.session_count, 1u) << "the first one goes on";
  EXPECT_EQ(host(0).active.load(), 1u);
}

namespace {

// A ClientHello captured from openssl s_client -servername b.test (fuzz/client_hello/corpus).
std::string capturedHello() {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() /
                       "../../../fuzz/client_hello/corpus/done_openssl_alpn_b_test.bin",
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// The session waits for the whole ClientHello (two pieces here), picks the route's pool by its
// SNI, and the server gets the ClientHello byte for byte, then the rest of the stream.
TEST_F(TcpSessionTest, SniRouteRelaysTheClientHelloUntouchedToItsPool) {
  core::Fd fallback = test::listenLoopback();
  core::Fd routed = test::listenLoopback();
  addServer(test::localPort(fallback.get()));
  sni_pool.name = "s";
  config::Server s;
  s.address = test::loopbackAddress(test::localPort(routed.get()));
  sni_pool.servers.push_back(s);
  config->listeners[0].sni_routes.push_back({{"*.test"}, "s"});
  const std::string hello = capturedHello();
  ASSERT_GT(hello.size(), 100u);
  core::Fd client = connectClient();
  ASSERT_TRUE(sendAll(client.get(), hello.substr(0, 100)));
  for (int i = 0; i < 20; ++i) {
    loop.runOnce(0);
  }
  EXPECT_FALSE(acceptNow(routed.get()).valid()) << "no connect before the ClientHello is complete";
  ASSERT_TRUE(sendAll(client.get(), hello.substr(100) + "after"));
  core::Fd conn = acceptFrom(routed.get());
  ASSERT_TRUE(conn.valid());
  EXPECT_EQ(readUntil(conn.get(), "after"), hello + "after");
  EXPECT_FALSE(acceptNow(fallback.get()).valid());
}

TEST_F(TcpSessionTest, AnIncompleteClientHelloIsCutAtTheHandshakeTimeoutWithoutSleeping) {
  core::Fd server = test::listenLoopback();
  addServer(test::localPort(server.get()));
  config->timeouts.handshake = std::chrono::milliseconds(1000);
  config->listeners[0].sni_routes.push_back({{"a.test"}, "s"});
  sni_pool.name = "s";
  sni_pool.servers = pool.servers;
  core::Fd client = connectClient();
  ASSERT_TRUE(sendAll(client.get(), std::string("\x16\x03\x01\x02\x00", 5)));
  pass(999);
  std::string ignored;
  EXPECT_FALSE(drain(client.get(), ignored));
  pass(2);
  EXPECT_TRUE(closedSoon(client.get()));
  EXPECT_FALSE(acceptNow(server.get()).valid());
}

TEST_F(TcpSessionTest, UnknownSniWithoutADefaultPoolAndGarbageAreRefusedAndCounted) {
  core::Fd server = test::listenLoopback();
  addServer(test::localPort(server.get()));
  config->listeners[0].pool.clear();
  no_default = true;
  config->listeners[0].sni_routes.push_back({{"a.test"}, "s"});
  sni_pool.name = "s";
  sni_pool.servers = pool.servers;
  core::Fd unknown = connectClient();
  ASSERT_TRUE(sendAll(unknown.get(), capturedHello()));  // b.test: no route
  EXPECT_TRUE(closedSoon(unknown.get()));
  core::Fd garbage = connectClient();
  ASSERT_TRUE(sendAll(garbage.get(), "GET / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(closedSoon(garbage.get()));
  EXPECT_EQ(rt->stats->sum().sni_refused, 2u);
  EXPECT_FALSE(acceptNow(server.get()).valid());
}

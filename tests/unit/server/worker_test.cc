// Worker: its own thread and loop (the system clock), fed snapshots built by SnapshotBuilder
// over sockets bound by ListenerRegistry, all on loopback. The test sees the worker only from
// outside, as a client and a server would: connections accepted and relayed, refused, closed.
// Every wait is bounded.
#include "server/worker.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <thread>

#include "server/listener_registry.h"
#include "server/snapshot_builder.h"
#include "../loopback.h"

using namespace fulcrum;
using namespace fulcrum::server;
using namespace std::chrono_literals;

namespace {

uint16_t freePort(int type = SOCK_STREAM) {
  core::Fd fd = test::listenLoopback(1, type);
  return test::localPort(fd.get());
}

// Polls pred every 5 ms for up to `limit`.
bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = 3000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// A blocking connect to 127.0.0.1:port, then non-blocking; invalid when refused.
core::Fd connectTo(uint16_t port) {
  core::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto a = test::loopbackAddress(port);
  if (::connect(fd.get(), a.sa(), a.length) != 0) {
    return core::Fd();
  }
  ::fcntl(fd.get(), F_SETFL, O_NONBLOCK);
  return fd;
}

// Reads fd until it holds `want` or is closed (bounded); "<closed>" appended on EOF or reset.
std::string readUntil(int fd, const std::string& want, std::chrono::milliseconds limit = 3000ms) {
  std::string got;
  bool closed = false;
  waitFor([&] {
    closed = test::drain(fd, got) || closed;
    return closed || got.find(want) != std::string::npos;
  }, limit);
  return closed ? got + "<closed>" : got;
}

core::Fd acceptWithin(int listener) {
  core::Fd conn;
  waitFor([&] {
    conn = test::acceptNow(listener);
    return conn.valid();
  });
  return conn;
}

config::Pool poolTo(const std::string& name, uint16_t port) {
  config::Pool p;
  p.name = name;
  config::Server s;
  s.address = test::loopbackAddress(port);
  p.servers.push_back(s);
  return p;
}

config::Listener listenerOn(const std::string& name, uint16_t port, config::Protocol protocol, const std::string& pool) {
  config::Listener l;
  l.name = name;
  l.protocol = protocol;
  l.bind = test::loopbackAddress(port);
  l.pool = pool;
  l.backlog = 16;
  return l;
}

class WorkerTest : public ::testing::Test {
 protected:
  WorkerTest() {
    builder.setWorkers(1);
    backend = test::listenLoopback();
    backend_port = test::localPort(backend.get());
    tcp_port = freePort();
  }
  ~WorkerTest() override {
    if (started) {
      worker.forceStop();
      worker.join();
    }
  }

  // A config with a TCP listener on tcp_port relaying to `backend`.
  std::shared_ptr<config::Config> tcpConfig() {
    auto c = std::make_shared<config::Config>();
    c->pools.push_back(poolTo("p", backend_port));
    c->listeners.push_back(listenerOn("tcp", tcp_port, config::Protocol::Tcp, "p"));
    return c;
  }
  // Binds what `config` needs, builds its snapshot and publishes it to the worker (started at
  // the first publish). The test keeps no reference to the snapshot: the worker's is the last.
  void publish(std::shared_ptr<const config::Config> config) {
    auto sockets = registry.prepare(*config, 1);
    ASSERT_TRUE(sockets) << sockets.error().message;
    auto snap = builder.build(config, *sockets, nullptr, 0, previous.get());
    registry.commit(*sockets);
    previous = snap;
    worker.publish(std::move(snap));
    if (!started) {
      worker.start();
      started = true;
    }
  }
  // Lets the worker's reference to the last snapshot be the only one.
  void forgetPrevious() { previous.reset(); }

  // A connection through the worker to the backend: the client and the backend's end.
  struct Relay {
    core::Fd client;
    core::Fd server;
  };
  Relay relay(int backendListener, uint16_t port) {
    Relay r;
    r.client = connectTo(port);
    if (r.client.valid()) {
      r.server = acceptWithin(backendListener);
    }
    return r;
  }
  // Bytes go both ways through the relay.
  static bool relays(Relay& r, const std::string& tag) {
    return test::sendAll(r.client.get(), "up " + tag) && readUntil(r.server.get(), "up " + tag) == "up " + tag &&
           test::sendAll(r.server.get(), "down " + tag) && readUntil(r.client.get(), "down " + tag) == "down " + tag;
  }

  SnapshotBuilder builder;
  ListenerRegistry registry;
  std::shared_ptr<const Snapshot> previous;
  Worker worker{0};
  bool started = false;
  core::Fd backend;
  uint16_t backend_port = 0;
  uint16_t tcp_port = 0;
};

}  // namespace

TEST_F(WorkerTest, APublishedSnapshotStartsItsListeners) {
  publish(tcpConfig());
  Relay r = relay(backend.get(), tcp_port);
  ASSERT_TRUE(r.client.valid());
  ASSERT_TRUE(r.server.valid()) << "the worker accepted and connected to the pool's server";
  EXPECT_TRUE(relays(r, "1"));
}

TEST_F(WorkerTest, ANewSnapshotAppliesToNewConnectionsAndOpenOnesGoOn) {
  publish(tcpConfig());
  Relay before = relay(backend.get(), tcp_port);
  ASSERT_TRUE(before.server.valid());

  // The same listener, now to another server.
  core::Fd other = test::listenLoopback();
  auto moved = tcpConfig();
  moved->pools[0] = poolTo("p", test::localPort(other.get()));
  publish(moved);
  // Until the worker has applied it, a new connection may still go to the first server.
  Relay after;
  for (int attempt = 0; attempt < 20 && !after.server.valid(); ++attempt) {
    after.client = connectTo(tcp_port);
    ASSERT_TRUE(after.client.valid());
    core::Fd stray;
    waitFor([&] {
      after.server = test::acceptNow(other.get());
      stray = test::acceptNow(backend.get());
      return after.server.valid() || stray.valid();
    });
  }
  ASSERT_TRUE(after.server.valid()) << "new connections go to the new server";
  EXPECT_TRUE(relays(after, "new"));
  EXPECT_TRUE(relays(before, "old")) << "the connection begun under the first snapshot keeps its server";
}

TEST_F(WorkerTest, AListenerLeftOutOfASnapshotIsStoppedAndItsSocketClosed) {
  uint16_t second_port = freePort();
  auto both = tcpConfig();
  both->listeners.push_back(listenerOn("tcp2", second_port, config::Protocol::Tcp, "p"));
  publish(both);
  Relay open = relay(backend.get(), second_port);
  ASSERT_TRUE(open.server.valid());

  publish(tcpConfig());  // tcp2 is gone
  forgetPrevious();
  EXPECT_TRUE(waitFor([&] { return !connectTo(second_port).valid(); }))
      << "once the worker lets go of the socket, connecting is refused";
  EXPECT_TRUE(relays(open, "still")) << "a connection it accepted goes on";
  // (Probes above that were queued when the listener stopped were taken and relayed: the
  // backend closes those before the next connection.)
  for (core::Fd probe = test::acceptNow(backend.get()); probe.valid(); probe = test::acceptNow(backend.get())) {
  }
  Relay kept = relay(backend.get(), tcp_port);
  ASSERT_TRUE(kept.server.valid());
  EXPECT_TRUE(relays(kept, "kept")) << "the listener that stayed still accepts";
}

TEST_F(WorkerTest, HttpAndUdpListenersAreServed) {
  uint16_t http_port = freePort();
  uint16_t udp_port = freePort(SOCK_DGRAM);
  core::Fd udp_backend = test::listenLoopback(0, SOCK_DGRAM);
  auto c = std::make_shared<config::Config>();
  c->pools.push_back(poolTo("u", test::localPort(udp_backend.get())));
  c->listeners.push_back(listenerOn("dns", udp_port, config::Protocol::Udp, "u"));
  config::Listener web = listenerOn("web", http_port, config::Protocol::Http, "");
  config::Route hello;
  hello.action = config::RouteAction::Respond;
  hello.status = 200;
  hello.body = "hello\n";
  web.http.routes.push_back(hello);
  c->listeners.push_back(web);
  publish(c);

  core::Fd h = connectTo(http_port);
  ASSERT_TRUE(h.valid());
  ASSERT_TRUE(test::sendAll(h.get(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  std::string answer = readUntil(h.get(), "hello\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;

  core::Fd client = test::listenLoopback(0, SOCK_DGRAM);
  auto to = test::loopbackAddress(udp_port);
  ASSERT_EQ(::sendto(client.get(), "q", 1, 0, to.sa(), to.length), 1);
  char buf[16];
  ssize_t n = -1;
  EXPECT_TRUE(waitFor([&] {
    n = ::recv(udp_backend.get(), buf, sizeof buf, MSG_DONTWAIT);
    return n >= 0;
  }));
  EXPECT_EQ(n, 1);
}

TEST_F(WorkerTest, DrainStopsAcceptingAndEndsTheWorkerOnceTheLastConnectionCloses) {
  publish(tcpConfig());
  Relay open = relay(backend.get(), tcp_port);
  ASSERT_TRUE(open.server.valid());

  worker.drain(60'000);
  registry.clear();  // as the server does at a stop: the worker's reference is the last
  forgetPrevious();
  EXPECT_TRUE(waitFor([&] { return !connectTo(tcp_port).valid(); })) << "no new connections";
  EXPECT_FALSE(worker.finished()) << "a connection is still open";
  EXPECT_TRUE(relays(open, "draining")) << "and it is still served";

  open.client.reset();
  EXPECT_EQ(readUntil(open.server.get(), "<never>"), "<closed>") << "the client's FIN is passed on";
  EXPECT_FALSE(worker.finished()) << "half-closed: the server may still answer";
  open.server.reset();
  EXPECT_TRUE(waitFor([&] {
    // (A probe above that was queued when the drain began was taken and relayed too: the
    // backend closes those as it sees them.)
    for (core::Fd probe = test::acceptNow(backend.get()); probe.valid(); probe = test::acceptNow(backend.get())) {
    }
    return worker.finished();
  })) << "the last connection closed";
}

TEST_F(WorkerTest, ADrainTimeoutResetsWhatIsStillOpen) {
  publish(tcpConfig());
  Relay open = relay(backend.get(), tcp_port);
  ASSERT_TRUE(open.server.valid());
  worker.drain(50);
  EXPECT_TRUE(waitFor([&] { return worker.finished(); }));
  EXPECT_EQ(readUntil(open.client.get(), "<never>"), "<closed>") << "closed at the drain timeout";
}

TEST_F(WorkerTest, CloseSessionsToClosesOnlyTheConnectionsToThatServer) {
  core::Fd other = test::listenLoopback();
  uint16_t second_port = freePort();
  auto c = tcpConfig();
  c->pools.push_back(poolTo("q", test::localPort(other.get())));
  c->listeners.push_back(listenerOn("tcp2", second_port, config::Protocol::Tcp, "q"));
  publish(c);
  Relay toP = relay(backend.get(), tcp_port);
  Relay toQ = relay(other.get(), second_port);
  ASSERT_TRUE(toP.server.valid() && toQ.server.valid());

  worker.closeSessionsTo(previous->clusters.at("p")->hosts[0].state);
  EXPECT_EQ(readUntil(toP.client.get(), "<never>"), "<closed>");
  EXPECT_TRUE(relays(toQ, "other server"));
}

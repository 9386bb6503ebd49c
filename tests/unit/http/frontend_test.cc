// HttpFrontend on an EventLoop driven by a ManualClock, over real loopback sockets: its
// listening socket, the clients that connect to it and the server it forwards to. Accepting,
// a runtime swapped by update(), stopping and draining, and the limits on connections (per
// client, and a server's max_connections with the frontend's wait queue).
#include "http/frontend.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>
#include <string>

#include "http/session.h"
#include "../loopback.h"

using namespace fulcrum;
using namespace fulcrum::http;
using test::acceptNow;
using test::drain;
using test::sendAll;

namespace {

constexpr char kGet[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";

// A client connected to 127.0.0.1:port (the kernel completes the handshake before any accept).
core::Fd connectTo(uint16_t port) {
  core::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) {
    return core::Fd();
  }
  ::fcntl(fd.get(), F_SETFL, O_NONBLOCK);
  return fd;
}

class HttpFrontendTest : public ::testing::Test {
 protected:
  HttpFrontendTest() : loop(clock), ctx(loop, 0) {
    listener = test::listenLoopback();
    port = test::localPort(listener.get());
    keepalive = std::make_shared<int>(0);
  }

  ~HttpFrontendTest() override {
    if (frontend) {
      frontend->stop();
    }
    while (ctx.sessions != nullptr) {
      ctx.sessions->close("test end", true);
    }
    frontend.reset();
    loop.runOnce(0);  // deferred deletes
  }

  // A config whose listener answers every request itself with `body` (a respond route).
  std::shared_ptr<config::Config> respondConfig(const std::string& body) {
    auto config = std::make_shared<config::Config>();
    config::Listener l;
    l.name = "front";
    l.protocol = config::Protocol::Http;
    config::Route r;
    r.action = config::RouteAction::Respond;
    r.status = 200;
    r.body = body;
    l.http.routes.push_back(r);
    config->listeners.push_back(l);
    return config;
  }
  // A config whose listener forwards to one server.
  std::shared_ptr<config::Config> forwardConfig(uint16_t serverPort, uint32_t maxConnections = 0) {
    auto config = std::make_shared<config::Config>();
    config::Pool p;
    p.name = "p";
    config::Server s;
    s.address = test::loopbackAddress(serverPort);
    s.max_connections = maxConnections;
    p.servers.push_back(s);
    config->pools.push_back(p);
    config::Listener l;
    l.name = "front";
    l.protocol = config::Protocol::Http;
    l.pool = "p";
    config->listeners.push_back(l);
    return config;
  }
  std::shared_ptr<ListenerRuntime> runtimeOf(std::shared_ptr<config::Config> config) {
    std::unordered_map<std::string, std::shared_ptr<const upstream::Cluster>> clusters;
    for (const auto& p : config->pools) {
      clusters[p.name] = registry.build(p, loop.nowMs(), true);
    }
    auto rt = buildRuntime(config, config->listeners[0], clusters, shared);
    rt->stats = stats;
    for (size_t i = 0; i < config->listeners[0].http.routes.size(); ++i) {
      rt->route_stats.push_back(std::make_shared<stats::TrafficSet>(1));
    }
    return rt;
  }
  void startFrontend(std::shared_ptr<const ListenerRuntime> rt) {
    frontend = std::make_shared<HttpFrontend>(ctx, listener.get(), keepalive);
    frontend->update(std::move(rt));
    ASSERT_TRUE(frontend->start());
  }
  const upstream::Cluster& clusterOf(size_t i = 0) { return *frontend->runtime()->default_target.clusters.at(i); }

  // Loop turns until pred() holds (test::spinUntil; bounded).
  bool spinUntil(const std::function<bool()>& pred) { return test::spinUntil(loop, pred); }
  // Reads from fd until it holds `want` or sees EOF; returns what arrived ("<closed>" appended
  // on EOF).
  std::string readUntil(int fd, const std::string& want) {
    std::string got;
    bool closed = false;
    spinUntil([&] {
      closed = drain(fd, got) || closed;
      return closed || got.find(want) != std::string::npos;
    });
    return closed ? got + "<closed>" : got;
  }
  core::Fd acceptFrom(int fd) {
    core::Fd conn;
    spinUntil([&] {
      conn = acceptNow(fd);
      return conn.valid();
    });
    return conn;
  }
  // Waits for a request holding `want` at the server, on a connection already accepted
  // (`conns`) or a new one (added to `conns`); returns the index of the one it came on, or -1.
  int awaitRequest(int server, std::vector<core::Fd>& conns, const std::string& want) {
    std::vector<std::string> seen;
    int at = -1;
    spinUntil([&] {
      if (core::Fd c = acceptNow(server); c.valid()) {
        conns.push_back(std::move(c));
      }
      seen.resize(conns.size());
      for (size_t i = 0; i < conns.size(); ++i) {
        drain(conns[i].get(), seen[i]);
        if (seen[i].find(want) != std::string::npos) {
          at = static_cast<int>(i);
          return true;
        }
      }
      return false;
    });
    return at;
  }
  // A few loop turns, for what must not happen.
  void settle() {
    for (int i = 0; i < 5; ++i) {
      loop.runOnce(1);
    }
  }

  core::ManualClock clock;
  core::EventLoop loop;
  upstream::WorkerContext ctx;
  upstream::HostRegistry registry;
  std::shared_ptr<SharedListenerState> shared = std::make_shared<SharedListenerState>();
  std::shared_ptr<stats::TrafficSet> stats = std::make_shared<stats::TrafficSet>(1);
  core::Fd listener;
  uint16_t port = 0;
  std::shared_ptr<int> keepalive;  // stands for the listening socket group
  std::shared_ptr<HttpFrontend> frontend;
};

}  // namespace

TEST_F(HttpFrontendTest, AcceptsConnectionsAndServesEachOnASessionOfItsOwn) {
  startFrontend(runtimeOf(respondConfig("hello\n")));
  core::Fd a = connectTo(port);
  core::Fd b = connectTo(port);
  ASSERT_TRUE(a.valid() && b.valid());
  ASSERT_TRUE(spinUntil([&] { return ctx.session_count == 2; }));
  ASSERT_TRUE(sendAll(b.get(), kGet));
  ASSERT_TRUE(sendAll(a.get(), kGet));
  std::string fromA = readUntil(a.get(), "hello\n");
  std::string fromB = readUntil(b.get(), "hello\n");
  EXPECT_EQ(fromA.rfind("HTTP/1.1 200", 0), 0u) << fromA;
  EXPECT_EQ(fromB.rfind("HTTP/1.1 200", 0), 0u) << fromB;
  EXPECT_EQ(stats->sum().connections, 2u);
  EXPECT_EQ(stats->sum().active, 2);

  a.reset();
  ASSERT_TRUE(spinUntil([&] { return ctx.session_count == 1; })) << "a closed client ends its session";
  EXPECT_EQ(stats->sum().active, 1);
}

TEST_F(HttpFrontendTest, AnUpdateAppliesToTheNextRequestOfAnOpenConnection) {
  startFrontend(runtimeOf(respondConfig("one\n")));
  core::Fd c = connectTo(port);
  ASSERT_TRUE(sendAll(c.get(), kGet));
  EXPECT_NE(readUntil(c.get(), "one\n").find("one\n"), std::string::npos);

  frontend->update(runtimeOf(respondConfig("two\n")));
  ASSERT_TRUE(sendAll(c.get(), kGet));
  std::string second = readUntil(c.get(), "two\n");
  EXPECT_NE(second.find("two\n"), std::string::npos) << "the same connection, the new config: " << second;
  EXPECT_EQ(ctx.session_count, 1u);
}

TEST_F(HttpFrontendTest, StopServesWhatWasQueuedThenAcceptsNothingAndLetsGoOfTheSocket) {
  startFrontend(runtimeOf(respondConfig("ok\n")));
  core::Fd open = connectTo(port);
  ASSERT_TRUE(spinUntil([&] { return ctx.session_count == 1; }));
  core::Fd queued = connectTo(port);  // in the kernel's accept queue: the loop has not run
  ASSERT_TRUE(queued.valid());
  std::weak_ptr<int> socketGroup = keepalive;
  keepalive.reset();

  frontend->stop(/*takePending=*/true);
  EXPECT_EQ(ctx.session_count, 2u) << "a connection already queued at the stop is taken and served";
  EXPECT_TRUE(socketGroup.expired()) << "sessions keep the frontend, not the listening socket";
  core::Fd late = connectTo(port);  // (the test still holds the socket open)
  ASSERT_TRUE(late.valid());
  ASSERT_TRUE(sendAll(late.get(), kGet));
  settle();
  EXPECT_EQ(ctx.session_count, 2u) << "nothing accepted after the stop";
  std::string none;
  drain(late.get(), none);
  EXPECT_EQ(none, "");

  ASSERT_TRUE(sendAll(queued.get(), kGet));
  ASSERT_TRUE(sendAll(open.get(), kGet));
  EXPECT_NE(readUntil(queued.get(), "ok\n").find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(readUntil(open.get(), "ok\n").find("HTTP/1.1 200"), std::string::npos) << "open connections go on";
}

TEST_F(HttpFrontendTest, DrainClosesIdleConnectionsAndLetsABusyOneFinishItsResponse) {
  core::Fd server = test::listenLoopback();
  startFrontend(runtimeOf(forwardConfig(test::localPort(server.get()))));
  core::Fd idle = connectTo(port);
  core::Fd busy = connectTo(port);
  std::vector<core::Fd> ups;
  ASSERT_TRUE(sendAll(idle.get(), "GET /idle HTTP/1.1\r\nHost: h\r\n\r\n"));
  int first = awaitRequest(server.get(), ups, "GET /idle");
  ASSERT_GE(first, 0);
  ASSERT_TRUE(sendAll(ups[first].get(), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"));
  ASSERT_NE(readUntil(idle.get(), "one").find("one"), std::string::npos);
  ASSERT_TRUE(sendAll(busy.get(), "GET /busy HTTP/1.1\r\nHost: h\r\n\r\n"));
  int second = awaitRequest(server.get(), ups, "GET /busy");
  ASSERT_GE(second, 0) << "the busy one's request is at the server";

  // What Worker::drain does to every session.
  std::vector<upstream::Session*> all;
  for (upstream::Session* s = ctx.sessions; s != nullptr; s = s->next) {
    all.push_back(s);
  }
  for (upstream::Session* s : all) {
    s->drain();
  }
  EXPECT_EQ(readUntil(idle.get(), "<never>"), "<closed>") << "idle between requests: closed now";
  EXPECT_EQ(ctx.session_count, 1u);
  ASSERT_TRUE(sendAll(ups[second].get(), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo"));
  std::string last = readUntil(busy.get(), "<never>");
  EXPECT_NE(last.find("two"), std::string::npos) << "the response in flight is delivered whole: " << last;
  EXPECT_NE(last.find("Connection: close"), std::string::npos) << last;
  EXPECT_NE(last.find("<closed>"), std::string::npos);
  busy.reset();  // (the session lingers until the client closes)
  EXPECT_TRUE(spinUntil([&] { return ctx.session_count == 0; }));
}

TEST_F(HttpFrontendTest, AClientAtItsConnectionLimitGets429UntilOneOfItsConnectionsCloses) {
  auto config = respondConfig("ok\n");
  config->listeners[0].http.max_connections_per_client = 2;
  startFrontend(runtimeOf(config));
  core::Fd a = connectTo(port);
  core::Fd b = connectTo(port);
  ASSERT_TRUE(spinUntil([&] { return ctx.session_count == 2; }));
  core::Fd third = connectTo(port);
  std::string refused = readUntil(third.get(), "<never>");
  EXPECT_EQ(refused.rfind("HTTP/1.1 429", 0), 0u) << refused;
  EXPECT_NE(refused.find("Retry-After: 1\r\n"), std::string::npos);
  EXPECT_NE(refused.find("<closed>"), std::string::npos) << "answered without a request, then closed";
  EXPECT_EQ(stats->sum().rate_limited, 1u);

  // A reload turns the limit off while a and b are open; their counts are still given back
  // when they close (the limit turned on again finds the client with none).
  frontend->update(runtimeOf(respondConfig("ok\n")));
  ASSERT_TRUE(sendAll(a.get(), kGet));
  ASSERT_NE(readUntil(a.get(), "ok\n").find("HTTP/1.1 200"), std::string::npos);  // a takes the new runtime
  a.reset();
  b.reset();
  third.reset();  // (refused, it lingers until the client closes)
  ASSERT_TRUE(spinUntil([&] { return ctx.session_count == 0; }));
  auto limitedAgain = respondConfig("ok\n");
  limitedAgain->listeners[0].http.max_connections_per_client = 2;
  frontend->update(runtimeOf(limitedAgain));
  core::Fd c = connectTo(port);
  core::Fd d = connectTo(port);
  ASSERT_TRUE(sendAll(c.get(), kGet));
  ASSERT_TRUE(sendAll(d.get(), kGet));
  EXPECT_EQ(readUntil(c.get(), "ok\n").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(readUntil(d.get(), "ok\n").rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(HttpFrontendTest, ARequestWaitsInTheQueueWhileTheServerIsAtMaxConnections) {
  core::Fd server = test::listenLoopback();
  startFrontend(runtimeOf(forwardConfig(test::localPort(server.get()), /*maxConnections=*/1)));
  core::Fd first = connectTo(port);
  core::Fd second = connectTo(port);
  std::vector<core::Fd> ups;
  ASSERT_TRUE(sendAll(first.get(), "GET /first HTTP/1.1\r\nHost: h\r\n\r\n"));
  int up = awaitRequest(server.get(), ups, "GET /first");
  ASSERT_GE(up, 0);
  ASSERT_TRUE(sendAll(second.get(), "GET /second HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(spinUntil([&] { return clusterOf().pool_state->traffic->sum().queued == 1; }));
  settle();
  EXPECT_FALSE(acceptNow(server.get()).valid()) << "max_connections 1: no second connection";
  EXPECT_EQ(clusterOf().hosts[0].state->active.load(), 1u);

  // The first response frees the slot: the waiting request goes next.
  ASSERT_TRUE(sendAll(ups[up].get(), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"));
  EXPECT_NE(readUntil(first.get(), "one").find("one"), std::string::npos);
  int next = awaitRequest(server.get(), ups, "GET /second");
  ASSERT_GE(next, 0);
  EXPECT_EQ(clusterOf().pool_state->traffic->sum().queued, 0);
  EXPECT_EQ(clusterOf().hosts[0].state->active.load(), 1u);
  ASSERT_TRUE(sendAll(ups[next].get(), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo"));
  EXPECT_NE(readUntil(second.get(), "two").find("two"), std::string::npos);
}

// UpstreamExchange without a session: real loopback servers, an event loop on a ManualClock,
// and a test source and sink in place of the HTTP/1 server codec (what an HTTP/2 stream will
// plug in the same way).
#include "http/upstream_exchange.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "../loopback.h"
#include "core/clock.h"
#include "core/event_loop.h"
#include "http/frontend.h"

using namespace fulcrum;
using namespace fulcrum::http;
using XStatus = UpstreamExchange::Status;

namespace {

// The request body, given in pieces as a client would send it.
class TestSource final : public RequestBodySource {
 public:
  State requestBody(std::span<const uint8_t>& data, bool pull) override {
    if (failed) {
      return pull ? State::Failed : State::Waiting;
    }
    if (sent < here.size()) {
      data = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(here.data()) + sent, here.size() - sent);
      return State::Ready;
    }
    return complete ? State::Complete : State::Waiting;
  }
  void requestBodySent(size_t n) override { sent += n; }

  std::string here;  // the body bytes the client sent so far
  size_t sent = 0;
  bool complete = true;
  bool failed = false;
};

// Records the response; takes at most `room` body bytes per call (back-pressure).
class TestSink final : public ResponseSink {
 public:
  void onInterimHead(const ResponseHead& head) override { interim.push_back(head.status); }
  size_t onResponseHead(const ResponseHead& head, std::string_view) override {
    status = head.status;
    return 0;
  }
  Taken onResponseData(std::string_view data) override {
    size_t n = std::min(data.size(), room);
    body.append(data.substr(0, n));
    return Taken{n, false};
  }
  bool flushResponse(bool& failed) override {
    failed = false;
    return true;
  }

  std::vector<uint16_t> interim;
  uint16_t status = 0;
  std::string body;
  size_t room = SIZE_MAX;
};

class UpstreamExchangeOnLoopback : public ::testing::Test, public ExchangeOwner {
 protected:
  UpstreamExchangeOnLoopback() : loop(clock), ctx(loop, 0) {
    frontend = std::make_shared<HttpFrontend>(ctx, -1, nullptr);
  }
  ~UpstreamExchangeOnLoopback() override {
    exchange.reset();
    frontend->connections().closeAll();
    for (int i = 0; i < 3; ++i) {
      loop.runOnce(0);
    }
  }

  // A pool of these loopback ports (retries: 2, the default).
  void pool(std::initializer_list<uint16_t> ports, uint32_t retries = 2) {
    config::Pool p;
    p.name = "p";
    p.retries = retries;
    for (uint16_t port : ports) {
      config::Server s;
      s.address = test::loopbackAddress(port);
      p.servers.push_back(s);
    }
    cluster = registry.build(p, 1000, true);
  }
  void begin(Method method = Method::Get, bool bodyComplete = true) {
    stream.requestHead(bodyComplete);
    UpstreamExchange::Params params;
    params.method = method;
    params.idempotent = method == Method::Get;
    params.body_complete = bodyComplete;
    exchange.emplace(ctx, *frontend, *this, stream, acct, nullptr, UpstreamRequest(cluster, 0, ""), params);
    exchange->attach(source, sink);
    exchange->requestHead() = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    last = exchange->start();
  }
  // Loop turns until the exchange says something but Pending (bounded).
  XStatus settle() {
    test::spinUntil(loop, [&] { return last != XStatus::Pending; });
    return last;
  }
  void onUpstreamEvents(uint32_t events) override { last = exchange->onServerEvents(events); }
  void onExchangeDeadline() override { ++deadline_moves; }
  void onSlotFreed() override { ++slots_freed; }

  core::ManualClock clock;
  core::EventLoop loop;
  upstream::WorkerContext ctx;
  std::shared_ptr<HttpFrontend> frontend;
  upstream::HostRegistry registry;
  std::shared_ptr<const upstream::Cluster> cluster;
  StreamState stream{1};
  RequestAccounting acct;
  TestSource source;
  TestSink sink;
  std::optional<UpstreamExchange> exchange;
  XStatus last = XStatus::Pending;
  int deadline_moves = 0;
  int slots_freed = 0;
};

// Accepts the exchange's connection and reads the request until `until` is in it (bounded).
std::string readRequest(core::EventLoop& loop, int listener, core::Fd& conn, std::string_view until) {
  std::string got;
  test::spinUntil(loop, [&] {
    if (!conn) {
      conn = test::acceptNow(listener);
    }
    if (conn) {
      test::drain(conn.get(), got);
    }
    return got.find(until) != std::string::npos;
  });
  return got;
}

}  // namespace

TEST_F(UpstreamExchangeOnLoopback, SendsTheHeadAndBodyAndDeliversTheResponseToTheSink) {
  core::Fd server = test::listenLoopback();
  pool({test::localPort(server.get())});
  source.here = "hello";
  begin(Method::Post, false);
  core::Fd conn;
  std::string req = readRequest(loop, server.get(), conn, "hello");
  EXPECT_EQ(req, "GET / HTTP/1.1\r\nHost: t\r\n\r\nhello") << "the head and the body bytes already here";
  ASSERT_TRUE(test::sendAll(conn.get(), "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"));
  EXPECT_EQ(settle(), XStatus::Done);
  EXPECT_EQ(sink.interim, std::vector<uint16_t>{100});
  EXPECT_EQ(sink.status, 200);
  EXPECT_EQ(sink.body, "abc");
  EXPECT_TRUE(stream.requestDone());
  EXPECT_EQ(acct.host, &cluster->hosts[0]);
  exchange->finish(false);
  EXPECT_EQ(frontend->connections().idleCount(), 1u) << "a keep-alive answer: the connection back to the pool";
}

TEST_F(UpstreamExchangeOnLoopback, ABodyStillToComeIsPulledFromTheSource) {
  core::Fd server = test::listenLoopback();
  pool({test::localPort(server.get())});
  source.here = "ab";
  source.complete = false;
  begin(Method::Post, false);
  core::Fd conn;
  readRequest(loop, server.get(), conn, "ab");
  EXPECT_FALSE(stream.requestDone()) << "the source said more is to come";
  source.here += "cd";
  source.complete = true;
  last = exchange->pump();  // the client sent the rest
  std::string rest = readRequest(loop, server.get(), conn, "cd");
  EXPECT_EQ(rest, "cd");
  EXPECT_TRUE(stream.requestDone());
}

TEST_F(UpstreamExchangeOnLoopback, ASinkThatTakesNothingStopsTheExchangeUntilItTakes) {
  core::Fd server = test::listenLoopback();
  pool({test::localPort(server.get())});
  sink.room = 0;
  begin();
  core::Fd conn;
  readRequest(loop, server.get(), conn, "\r\n\r\n");
  ASSERT_TRUE(test::sendAll(conn.get(), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwhole"));
  test::spinUntil(loop, [&] { return sink.status == 200; });
  for (int i = 0; i < 5; ++i) {
    loop.runOnce(1);
  }
  EXPECT_EQ(last, XStatus::Pending) << "the body waits in the exchange's buffer";
  EXPECT_EQ(sink.body, "");
  sink.room = 2;
  last = exchange->pump();  // the client became writable
  EXPECT_EQ(sink.body, "wh") << "what it takes, no more";
  sink.room = SIZE_MAX;
  last = exchange->pump();
  EXPECT_EQ(last, XStatus::Done);
  EXPECT_EQ(sink.body, "whole");
}

TEST_F(UpstreamExchangeOnLoopback, AServerThatClosesBeforeAnsweringIsRetriedOnTheNextOne) {
  core::Fd servers[2] = {test::listenLoopback(), test::listenLoopback()};
  pool({test::localPort(servers[0].get()), test::localPort(servers[1].get())});
  begin();
  // Whichever server the balancer picks first closes the connection unanswered; the other answers.
  core::Fd conns[2];
  int first = -1;
  bool answered = false;
  test::spinUntil(loop, [&] {
    for (int i = 0; i < 2; ++i) {
      if (!conns[i] && (conns[i] = test::acceptNow(servers[i].get())) && first < 0) {
        first = i;
        ::shutdown(conns[i].get(), SHUT_RDWR);
      }
      std::string req;
      if (i != first && conns[i] && !answered && (test::drain(conns[i].get(), req), !req.empty())) {
        answered = test::sendAll(conns[i].get(), "HTTP/1.1 204 No Content\r\n\r\n");
      }
    }
    return last != XStatus::Pending;
  });
  EXPECT_EQ(last, XStatus::Done);
  EXPECT_EQ(sink.status, 204);
  EXPECT_EQ(exchange->upstream().attempts(), 2u);
  EXPECT_EQ(acct.retries, 1u);
}

TEST_F(UpstreamExchangeOnLoopback, NoRetryLeftAnswers502AndGivesEverythingBack) {
  pool({test::refusingPort()}, 0);
  begin();
  EXPECT_EQ(settle(), XStatus::Failed);
  EXPECT_EQ(exchange->failure().end, UpstreamExchange::Failure::End::Answer);
  EXPECT_EQ(exchange->failure().status, 502);
  EXPECT_STREQ(acct.termination, "connect_failed");
  EXPECT_FALSE(exchange->usesHost(cluster->hosts[0].state.get())) << "its slot was given back";
}

TEST_F(UpstreamExchangeOnLoopback, ASilentServerTimesOutWith504OnceItsDeadlinePasses) {
  core::Fd server = test::listenLoopback();
  pool({test::localPort(server.get())}, 0);
  begin();
  core::Fd conn;
  readRequest(loop, server.get(), conn, "\r\n\r\n");
  config::Timeouts t;
  t.response = std::chrono::milliseconds(3000);
  uint64_t deadline = exchange->deadline(t, true);
  EXPECT_EQ(deadline, loop.nowMs() + 3000) << "the request is sent: the server owes the response";
  EXPECT_GT(deadline_moves, 0) << "the owner was told to re-arm its timer";
  EXPECT_EQ(exchange->timedOut(), XStatus::Failed);
  EXPECT_EQ(exchange->failure().status, 504);
  EXPECT_STREQ(acct.termination, "response_timeout");
}

TEST_F(UpstreamExchangeOnLoopback, ASourceThatFailsEndsTheExchangeAsTheStreams) {
  core::Fd server = test::listenLoopback();
  pool({test::localPort(server.get())});
  source.complete = false;
  begin(Method::Post, false);
  core::Fd conn;
  readRequest(loop, server.get(), conn, "\r\n\r\n");
  source.failed = true;  // e.g. a malformed chunk, or the client gone
  EXPECT_EQ(exchange->pump(), XStatus::Failed);
  EXPECT_EQ(exchange->failure().end, UpstreamExchange::Failure::End::Stream);
  std::string rest;
  EXPECT_TRUE(test::spinUntil(loop, [&] { return test::drain(conn.get(), rest); }))
      << "the server connection is closed, not pooled";
  EXPECT_EQ(frontend->connections().idleCount(), 0u);
}

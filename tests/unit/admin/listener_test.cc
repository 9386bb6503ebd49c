// The admin API on the HTTP stack: AdminHandler's mapping between HTTP and the API, and the
// AdminListener on loopback with a loop driven by a ManualClock (one request per connection,
// bodies by Content-Length or chunked, probes answered while idle connections crowd the port,
// the head timeout), over a Control that has nothing running.
#include "admin/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "../loopback.h"

using namespace fulcrum;
using namespace fulcrum::admin;

namespace {

// Nothing applied: /readyz says not serving; nothing may change.
struct IdleControl final : Control {
  View view() override { return View{}; }
  std::optional<ApiError> change(const std::vector<Change>&, const std::string&) override { return std::nullopt; }
  ReloadOutcome reload(const std::string&) override { return {}; }
  std::optional<ApiError> reset(const std::string&, const std::string&, const std::string&, size_t&) override {
    return std::nullopt;
  }
};

}  // namespace

TEST(AdminHandler, MapsTheRequestAndAnswersWithNoStoreAndClose) {
  IdleControl control;
  Api api(control, "s3cret");
  AdminHandler handler(api);
  http::TerminalRequest req;
  req.method = "GET";
  req.path = "/api/v1/status";
  req.headers = {{"Host", "x"}, {"authorization", "Bearer wrong"}, {"Authorization", "Bearer s3cret"}};
  req.peer = "127.0.0.1:1";
  Request mapped = toAdminRequest(req);
  EXPECT_EQ(mapped.authorization, "Bearer wrong") << "the first Authorization field, as before";
  EXPECT_EQ(mapped.peer, "127.0.0.1:1");

  http::TerminalResponse r = handler.handle(req);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_NE(r.headers.find("Cache-Control: no-store\r\n"), std::string::npos) << r.headers;
  EXPECT_NE(r.headers.find("WWW-Authenticate: Bearer"), std::string::npos) << r.headers;
  EXPECT_NE(r.body.find("\"error\": \"the token is not valid\""), std::string::npos) << r.body;
  EXPECT_TRUE(r.close);

  req.path = "/livez";
  r = handler.handle(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

TEST(AdminHandler, RefusalsOfTheHttpStackAreJsonErrors) {
  IdleControl control;
  Api api(control, "");
  AdminHandler handler(api);
  http::TerminalResponse r = handler.refuse(408, "request head timeout");
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, "{\n  \"error\": \"request head timeout\"\n}\n");
  EXPECT_NE(r.headers.find("Cache-Control: no-store\r\n"), std::string::npos);
  EXPECT_TRUE(r.close);
}

namespace {

class AdminOnLoopback : public ::testing::Test {
 protected:
  AdminOnLoopback() : loop(clock), api(control, "") {}
  void start(AdminListener::Limits limits = {}) {
    listener = std::make_unique<AdminListener>(loop, api, limits);
    config::SocketAddress any;  // 127.0.0.1, an ephemeral port
    auto* in = reinterpret_cast<sockaddr_in*>(&any.storage);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    any.length = sizeof(sockaddr_in);
    any.text = "127.0.0.1:0";
    auto st = listener->start(any);
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_NE(listener->port(), 0);
  }
  ~AdminOnLoopback() override {
    clients.clear();
    listener.reset();
  }
  // A connected client (non-blocking), accepted once the loop turns.
  int connect() {
    core::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in.sin_port = htons(listener->port());
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&in), sizeof in), 0);
    EXPECT_EQ(::fcntl(fd.get(), F_SETFL, O_NONBLOCK), 0);
    clients.push_back(std::move(fd));
    turn();
    return clients.back().get();
  }
  void turn() {
    for (int i = 0; i < 4; ++i) {
      loop.runOnce(0);
    }
  }
  void pass(uint64_t ms) {
    clock.advanceMs(ms);
    turn();
  }
  // What fd received so far, with "<closed>" at EOF.
  static std::string received(int fd) {
    std::string out;
    if (test::drain(fd, out)) {
      out += "<closed>";
    }
    return out;
  }
  std::string exchange(const std::string& request) {
    int fd = connect();
    EXPECT_TRUE(test::sendAll(fd, request));
    turn();
    return received(fd);
  }

  core::ManualClock clock;
  core::EventLoop loop;
  IdleControl control;
  Api api;
  std::unique_ptr<AdminListener> listener;
  std::vector<core::Fd> clients;
};

}  // namespace

TEST_F(AdminOnLoopback, AnswersOneRequestPerConnectionAndCloses) {
  start();
  std::string out = exchange("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Cache-Control: no-store\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\nok\n<closed>"), std::string::npos) << out;
  out = exchange("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << "nothing applied: " << out;
  out = exchange("HEAD /livez HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("Content-Length: 3\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\n<closed>"), std::string::npos) << "no body to HEAD: " << out;
}

TEST_F(AdminOnLoopback, ReadsBodiesByContentLengthAndChunked) {
  start();
  // The API reads a body only to refuse it here (not JSON): proof it was read whole.
  std::string out = exchange("PUT /api/v1/pools/p/servers/a:1/weight HTTP/1.1\r\nHost: x\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 415", 0), 0u) << out;
  EXPECT_NE(out.find("without a Content-Type"), std::string::npos) << out;
  out = exchange("PUT /api/v1/pools/p/servers/a:1/weight HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                 "Content-Length: 2\r\n\r\n{}");
  EXPECT_EQ(out.rfind("HTTP/1.1 415", 0), 0u) << out;
  out = exchange("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find("{\n  \"error\": \"body too large\""), std::string::npos) << "a JSON error: " << out;
  out = exchange("GARBAGE\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find("\"error\""), std::string::npos) << out;
}

TEST_F(AdminOnLoopback, ProbesAnswerWhileOneClientCrowdsThePortAndTheHeadTimeoutClosesTheCrowd) {
  AdminListener::Limits limits;
  limits.head_timeout_ms = 2000;
  limits.max_per_client = 4;
  start(limits);
  std::vector<int> idle;
  for (int i = 0; i < 6; ++i) {
    idle.push_back(connect());
    if (i % 2 == 1) {
      EXPECT_TRUE(test::sendAll(idle.back(), "GET /livez HTTP/1.1\r\n"));  // half a head
    }
  }
  turn();
  EXPECT_EQ(listener->stats().shed, 2u) << "the 5th and 6th took the places of the 1st and 2nd";
  EXPECT_EQ(received(idle[0]), "<closed>");
  EXPECT_EQ(received(idle[1]), "<closed>");
  std::string out = exchange("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_EQ(listener->stats().shed, 3u);
  EXPECT_EQ(listener->stats().refused, 0u);
  pass(1999);
  EXPECT_EQ(received(idle[3]), "");
  pass(1);
  EXPECT_EQ(listener->stats().head_timeouts, 3u);
  EXPECT_EQ(received(idle[4]), "<closed>") << "never said a word: closed without an answer";
  out = received(idle[3]);
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << "a slow client is told why: " << out;
  EXPECT_NE(out.find("\"error\""), std::string::npos) << out;
}

TEST_F(AdminOnLoopback, StopClosesOpenConnections) {
  start();
  int fd = connect();
  EXPECT_EQ(listener->open(), 1u);
  listener->stop();
  turn();
  EXPECT_EQ(received(fd), "<closed>");
  EXPECT_EQ(listener->open(), 0u);
}

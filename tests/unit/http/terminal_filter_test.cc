// The terminal filter: TerminalCall alone on parsed heads (the body by Content-Length and
// chunked, its bound, what the handler is given), the filter in a chain, and a terminal
// listener's sessions on a loop driven by a ManualClock (the answer, keep-alive or close, the
// body timeout, 100 Continue, refusals in the handler's shape).
#include <gtest/gtest.h>

#include <stdexcept>

#include "codec/parser.h"
#include "http/h1/request_decoder.h"
#include "http/filters/terminal_filter.h"
#include "http/runtime.h"
#include "parsed_request.h"
#include "session_peer.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

using Req = test::ParsedRequest;

// Echoes what it was given; throws for /throw.
struct Echo final : TerminalHandler {
  TerminalResponse handle(const TerminalRequest& req) override {
    ++calls;
    if (req.path == "/throw") {
      throw std::runtime_error("boom");
    }
    TerminalResponse r;
    r.status = 201;
    r.content_type = "text/x-echo";
    r.headers = "X-Method: " + req.method + "\r\n";
    r.body = req.path + "?" + req.query + " [" + req.body + "]";
    r.close = req.path == "/close";
    return r;
  }
  TerminalResponse refuse(uint16_t status, std::string_view reason) const override {
    TerminalResponse r;
    r.status = status;
    r.content_type = "application/x-refusal";
    r.body = "refused: " + std::string(reason);
    r.close = true;
    return r;
  }
  int calls = 0;
};

}  // namespace

TEST(TerminalCall, CopiesTheRequestAndTakesAContentLengthBodyInPiecesButNotPastIt) {
  Req r("POST /api/x?a=1&b=2 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer t\r\nX-Twice: 1\r\nX-Twice: 2\r\n"
        "Content-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\n\r\n");
  Echo echo;
  auto peer = test::loopbackPeer(4321);
  TerminalCall call(echo, r.request, r.framing(), reinterpret_cast<const sockaddr*>(&peer));
  const TerminalRequest& q = call.request();
  EXPECT_EQ(q.method, "POST");
  EXPECT_EQ(q.path, "/api/x");
  EXPECT_EQ(q.query, "a=1&b=2");
  EXPECT_EQ(q.peer, "127.0.0.1:4321");
  ASSERT_NE(q.header("authorization"), nullptr);
  EXPECT_EQ(*q.header("AUTHORIZATION"), "Bearer t");
  EXPECT_EQ(*q.header("x-twice"), "1") << "the first of repeated fields";
  EXPECT_EQ(q.header("cookie"), nullptr);
  EXPECT_FALSE(call.complete());

  std::string_view body = r.body();
  size_t used = 0;
  EXPECT_EQ(call.feed(body.substr(0, 4), used), TerminalCall::Status::NeedMore);
  EXPECT_EQ(used, 4u);
  EXPECT_EQ(call.feed(body.substr(4), used), TerminalCall::Status::Done);
  EXPECT_EQ(used, 6u) << "the pipelined request behind the body stays";
  EXPECT_EQ(q.body, "0123456789");
  EXPECT_EQ(call.answer().body, "/api/x?a=1&b=2 [0123456789]");
}

TEST(TerminalCall, DeChunksAChunkedBodySplitAnywhere) {
  Req r("PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\nNEXT");
  std::string_view body = r.body();
  for (size_t split = 0; split <= body.size() - 4; ++split) {
    Echo echo;
    TerminalCall call(echo, r.request, r.framing(), nullptr);
    size_t used = 0;
    auto st = call.feed(body.substr(0, split), used);
    ASSERT_NE(st, TerminalCall::Status::Error) << split;
    std::string rest(body.substr(used));  // what the session would still hold
    size_t used2 = 0;
    ASSERT_EQ(call.feed(rest, used2), TerminalCall::Status::Done) << split;
    EXPECT_EQ(rest.substr(used2), "NEXT") << split;
    EXPECT_EQ(call.request().body, "hello world") << split;
  }
}

TEST(TerminalCall, ABodyPastTheLimitIs413AndBadChunksAre400) {
  Echo echo;
  Req big("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n");
  TerminalCall tooLong(echo, big.request, big.framing(), nullptr);
  size_t used = 0;
  EXPECT_EQ(tooLong.feed("x", used), TerminalCall::Status::Error) << "refused before a byte of it is read";
  EXPECT_EQ(tooLong.errorStatus(), 413);
  EXPECT_EQ(used, 0u);

  Req exact("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\n");
  TerminalCall fits(echo, exact.request, exact.framing(), nullptr);
  EXPECT_EQ(fits.feed(std::string(1048576, 'a'), used), TerminalCall::Status::Done);

  Req chunked("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  TerminalCall small(echo, chunked.request, chunked.framing(), nullptr, 8);
  EXPECT_EQ(small.feed("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", used), TerminalCall::Status::Error);
  EXPECT_EQ(small.errorStatus(), 413) << "chunk sizes add up past the limit";

  TerminalCall bad(echo, chunked.request, chunked.framing(), nullptr);
  EXPECT_EQ(bad.feed("zz\r\n", used), TerminalCall::Status::Error);
  EXPECT_EQ(bad.errorStatus(), 400);
  EXPECT_FALSE(bad.errorReason().empty());
}

TEST(TerminalCall, WithoutABodyItIsCompleteAtOnceAndAThrowingHandlerGetsItsOwn500) {
  Req r("GET /throw HTTP/1.1\r\nHost: h\r\n\r\n");
  Echo echo;
  TerminalCall call(echo, r.request, r.framing(), nullptr);
  EXPECT_TRUE(call.complete());
  size_t used = 7;
  EXPECT_EQ(call.feed("GET / HTTP/1.1\r\n", used), TerminalCall::Status::Done);
  EXPECT_EQ(used, 0u);
  TerminalResponse a = call.answer();
  EXPECT_EQ(a.status, 500);
  EXPECT_EQ(a.content_type, "application/x-refusal") << "the handler's refuse() shape";
  EXPECT_EQ(echo.calls, 1);
}

TEST(TerminalFilter, EndsTheChainWithItsHandler) {
  struct Never final : RequestFilter {
    FilterStatus onRequestHead(RequestState&) const override {
      ADD_FAILURE() << "no filter runs after a terminal one";
      return FilterStatus::Continue;
    }
  };
  Echo echo;
  FilterChain chain;
  chain.add(std::make_unique<TerminalFilter>(echo));
  chain.add(std::make_unique<Never>());
  Req r("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  RequestState state(r.request);
  EXPECT_EQ(chain.onRequestHead(state), FilterStatus::Terminal);
  EXPECT_EQ(state.terminal, &echo);
}

TEST(TerminalHandler, RefusesInPlainTextByDefault) {
  struct Plain final : TerminalHandler {
    TerminalResponse handle(const TerminalRequest&) override { return {}; }
  } plain;
  TerminalResponse r = plain.refuse(408, "slow");
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.body, "408 Request Timeout\n");
  EXPECT_TRUE(r.close);
}

namespace {

// A terminal listener's session on a socketpair; the clock moves only when the test says.
class TerminalSession : public ::testing::Test {
 protected:
  TerminalSession() : loop(clock), ctx(loop, 0) {
    config = std::make_shared<config::Config>();
    config->timeouts.request_head = std::chrono::milliseconds(2'000);
    config->timeouts.request_body = std::chrono::milliseconds(10'000);
    config::Listener l;
    l.name = "terminal";
    l.protocol = config::Protocol::Http;
    l.http.max_body_size = TerminalCall::kMaxBody;
    config->listeners.push_back(l);
    frontend = std::make_shared<HttpFrontend>(ctx, -1, nullptr);
    frontend->update(buildTerminalRuntime(config, config->listeners[0], echo));
    client.connect(ctx, frontend, test::loopbackPeer(5555));
  }
  void send(const std::string& bytes) { client.send(bytes); }
  std::string received() { return client.received(); }
  void pass(uint64_t ms) { client.pass(ms); }

  Echo echo;
  core::ManualClock clock;
  core::EventLoop loop;
  upstream::WorkerContext ctx;
  std::shared_ptr<config::Config> config;
  std::shared_ptr<HttpFrontend> frontend;
  test::SessionPeer client{clock, loop};  // (declared last: closed first)
};

}  // namespace

TEST_F(TerminalSession, TheHandlerAnswersTheWholeRequestAndTheConnectionStaysForTheNext) {
  send("POST /a?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhel");
  pass(0);
  EXPECT_EQ(received(), "") << "the body is not all here";
  send("lo");
  pass(0);
  std::string out = received();
  EXPECT_EQ(out.rfind("HTTP/1.1 201 Created\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Type: text/x-echo\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Method: POST\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 14\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\n/a?q=1 [hello]"), std::string::npos) << out;
  EXPECT_EQ(out.find("Connection: close"), std::string::npos) << out;
  // A chunked one on the same connection, then one the handler closes after.
  send("PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
       "GET /close HTTP/1.1\r\nHost: h\r\n\r\n");
  pass(0);
  pass(0);
  out = received();
  EXPECT_NE(out.find("/b? [abc]"), std::string::npos) << out;
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("/close? []"), std::string::npos) << out;
  EXPECT_EQ(echo.calls, 3);
}

TEST_F(TerminalSession, ABodyThatStopsComingGets408AfterRequestBody) {
  send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab");
  pass(0);
  pass(9'999);
  EXPECT_EQ(received(), "");
  pass(1);
  std::string out = received();
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_NE(out.find("refused: request body timeout"), std::string::npos) << "in the handler's shape: " << out;
  EXPECT_EQ(echo.calls, 0);
}

TEST_F(TerminalSession, RefusalsBeforeTheHandlerAreInItsShape) {
  send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n");
  pass(0);
  std::string out = received();
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Type: application/x-refusal\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
  EXPECT_EQ(echo.calls, 0);
}

TEST_F(TerminalSession, ABadHeadIsRefusedInTheHandlersShape) {
  send("GARBAGE\r\n\r\n");
  pass(0);
  std::string out = received();
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_NE(out.find("refused: "), std::string::npos) << out;
}

TEST_F(TerminalSession, AnExpectedBodyIsAskedForWith100Continue) {
  send("PUT /e HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  pass(0);
  EXPECT_EQ(received(), "HTTP/1.1 100 Continue\r\n\r\n");
  send("xyz");
  pass(0);
  std::string out = received();
  EXPECT_EQ(out.rfind("HTTP/1.1 201", 0), 0u) << out;
  EXPECT_NE(out.find("/e? [xyz]"), std::string::npos) << out;
}

TEST_F(TerminalSession, TrailersThatFillTheBufferAreRefusedNotWaitedFor) {
  send("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Big: " +
       std::string(20'000, 'b'));
  pass(0);
  pass(0);
  std::string out = received();
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
  EXPECT_EQ(echo.calls, 0);
}

// ResponseParser: status lines, body framing for every kind of response, and what it refuses
// (always answered with 502).
#include <gtest/gtest.h>

#include <string>

#include "http_test_helpers.h"

namespace fulcrum::http {
namespace {

using testing::parseResponse;
using testing::responseVerdict;

const ResponseContext kGet{};
const ResponseContext kHead = ResponseContext::forMethod(Method::Head);
const ResponseContext kConnect = ResponseContext::forMethod(Method::Connect);

TEST(ResponseParser, SimpleOk) {
  const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
  ResponseParser parser;
  ParseResult r = parseResponse(parser, text);
  ASSERT_EQ(r.status, ParseStatus::Done) << fuzz::describe(r);
  EXPECT_EQ(r.consumed, text.size() - 5);
  const ResponseHead& h = parser.head();
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.reason, "OK");
  EXPECT_EQ(h.version, Version::Http11);
  EXPECT_EQ(h.body.kind, BodyKind::ContentLength);
  EXPECT_EQ(h.body.length, 5u);
  EXPECT_TRUE(h.keepAlive);
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[1].value, "text/plain");
}

TEST(ResponseParser, StatusLineVariants) {
  struct Case {
    std::string line;
    uint16_t status;
    std::string reason;
  };
  const Case cases[] = {
      {"HTTP/1.1 404 Not Found", 404, "Not Found"},
      {"HTTP/1.1 200", 200, ""},
      {"HTTP/1.1 200 ", 200, ""},
      {"HTTP/1.0 599 x\ty \xe9", 599, "x\ty \xe9"},
      {"HTTP/1.1 100 Continue", 100, "Continue"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    const std::string text = c.line + "\r\nContent-Length: 0\r\n\r\n";
    ResponseParser parser;
    ASSERT_EQ(parseResponse(parser, text).status, ParseStatus::Done);
    EXPECT_EQ(parser.head().status, c.status);
    EXPECT_EQ(parser.head().reason, c.reason);
  }
}

TEST(ResponseParser, BodyFraming) {
  struct Case {
    std::string text;
    ResponseContext context;
    BodyKind kind;
    uint64_t length;
    bool keepAlive;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", kGet, BodyKind::ContentLength, 12, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", kGet, BodyKind::Chunked, 0, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", kGet, BodyKind::Chunked, 0, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", kGet, BodyKind::UntilClose, 0, false},
      {"HTTP/1.1 200 OK\r\n\r\n", kGet, BodyKind::UntilClose, 0, false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", kGet, BodyKind::ContentLength, 3, false},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n", kGet,
       BodyKind::ContentLength, 3, true},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\n", kGet, BodyKind::ContentLength, 3,
       false},
      {"HTTP/1.1 204 No Content\r\n\r\n", kGet, BodyKind::None, 0, true},
      {"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", kGet, BodyKind::None, 0, true},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", kGet, BodyKind::None, 0, true},
      {"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", kGet, BodyKind::None, 0, true},
      {"HTTP/1.1 100 Continue\r\n\r\n", kGet, BodyKind::None, 0, true},
      {"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", kGet, BodyKind::None, 0, true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", kHead, BodyKind::None, 0, true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", kHead, BodyKind::None, 0, true},
      {"HTTP/1.1 200 OK\r\n\r\n", kHead, BodyKind::None, 0, true},
      {"HTTP/1.1 200 Connection established\r\n\r\n", kConnect, BodyKind::None, 0, true},
      {"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\n", kConnect, BodyKind::ContentLength, 2, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    ResponseParser parser({}, c.context);
    ParseResult r = parseResponse(parser, c.text, {}, c.context);
    ASSERT_EQ(r.status, ParseStatus::Done) << fuzz::describe(r);
    EXPECT_EQ(parser.head().body.kind, c.kind);
    EXPECT_EQ(parser.head().body.length, c.length);
    EXPECT_EQ(parser.head().keepAlive, c.keepAlive);
  }
}

TEST(ResponseParser, SwitchingProtocols) {
  const std::string text =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  ResponseParser parser;
  ASSERT_EQ(parseResponse(parser, text).status, ParseStatus::Done);
  EXPECT_TRUE(parser.head().upgrade);
  EXPECT_EQ(parser.head().body.kind, BodyKind::None);
  EXPECT_EQ(responseVerdict("HTTP/1.1 101 Switching Protocols\r\n\r\n"), 502);
}

TEST(ResponseParser, InterimThenFinalWithReset) {
  const std::string text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  ResponseParser parser;
  ParseResult r = parser.feed(text);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(parser.head().status, 100);
  parser.reset();
  ParseResult second = parser.feed(std::string_view(text).substr(r.consumed));
  ASSERT_EQ(second.status, ParseStatus::Done);
  EXPECT_EQ(parser.head().status, 201);
}

TEST(ResponseParser, Rejections) {
  struct Case {
    const char* rule;
    std::string text;
    ResponseContext context;
  };
  const Case cases[] = {
      {"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", kGet},
      {"CL and TE on HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       kHead},
      {"differing CL", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", kGet},
      {"CL list", "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n", kGet},
      {"CL sign", "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\n", kGet},
      {"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", kGet},
      {"TE in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", kGet},
      {"CL on 204", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", kGet},
      {"TE on 204", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", kGet},
      {"TE on 1xx", "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n", kGet},
      {"status 099", "HTTP/1.1 099 Low\r\n\r\n", kGet},
      {"status 600", "HTTP/1.1 600 High\r\n\r\n", kGet},
      {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", kGet},
      {"four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", kGet},
      {"no space after status", "HTTP/1.1 200OK\r\n\r\n", kGet},
      {"two spaces before status", "HTTP/1.1  200 OK\r\n\r\n", kGet},
      {"HTTP/2", "HTTP/2 200 OK\r\n\r\n", kGet},
      {"HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", kGet},
      {"HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", kGet},
      {"lower-case", "http/1.1 200 OK\r\n\r\n", kGet},
      {"CTL in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", kGet},
      {"bare CR in reason", "HTTP/1.1 200 O\rK\r\n\r\n", kGet},
      {"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", kGet},
      {"empty line first", "\r\nHTTP/1.1 200 OK\r\n\r\n", kGet},
      {"obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", kGet},
      {"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", kGet},
      {"NUL in value", std::string("HTTP/1.1 200 OK\r\nX: \0\r\n\r\n", 24), kGet},
      {"Connection names CL", "HTTP/1.1 200 OK\r\nConnection: content-length\r\n\r\n", kGet},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.rule) + ": " + c.text);
    EXPECT_EQ(responseVerdict(c.text, c.context), 502);
  }
}

TEST(ResponseParser, Limits) {
  Limits limits;
  limits.maxRequestLine = 20;
  limits.maxHeaders = 1;
  EXPECT_EQ(responseVerdict("HTTP/1.1 200 OK\r\nA: b\r\n\r\n", kGet, limits), 0);
  EXPECT_EQ(responseVerdict("HTTP/1.1 200 OKAYOKAY\r\nA: b\r\n\r\n", kGet, limits), 502);
  EXPECT_EQ(responseVerdict("HTTP/1.1 200 OK\r\nA: b\r\nB: c\r\n\r\n", kGet, limits), 502);
  limits = {};
  limits.maxBodySize = 10;
  EXPECT_EQ(responseVerdict("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", kGet, limits), 502);
  ResponseParser parser(limits);
  ParseResult r = parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
  EXPECT_EQ(r.error.reason, "body too large");
}

}  // namespace
}  // namespace fulcrum::http

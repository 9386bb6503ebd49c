// RequestParser: accepted requests, framing, connection flags, limits, and the contract
// (incremental feeding, moving buffers, final states, reset and pipelining).
#include <gtest/gtest.h>

#include <string>

#include "codec/parser.h"
#include "http_test_helpers.h"

namespace fulcrum::http {
namespace {

using testing::parseRequest;
using testing::requestVerdict;

TEST(RequestParser, SimpleGet) {
  const std::string text = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  RequestParser parser;
  ParseResult r = parseRequest(parser, text);
  ASSERT_EQ(r.status, ParseStatus::Done) << fuzz::describe(r);
  EXPECT_EQ(r.consumed, text.size());
  const RequestHead& h = parser.head();
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.methodId, Method::Get);
  EXPECT_EQ(h.target, "/index.html?q=1");
  EXPECT_EQ(h.targetForm, TargetForm::Origin);
  EXPECT_EQ(h.version, Version::Http11);
  EXPECT_EQ(h.host, "example.com");
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[0].name, "Host");
  EXPECT_EQ(h.headers[1].name, "Accept");
  EXPECT_EQ(h.headers[1].value, "*/*");
  EXPECT_EQ(h.body.kind, BodyKind::None);
  EXPECT_TRUE(h.keepAlive);
  EXPECT_FALSE(h.upgrade);
  EXPECT_FALSE(h.expectContinue);
  // Zero-copy: the views point into the caller's bytes.
  EXPECT_EQ(h.method.data(), text.data());
  EXPECT_EQ(h.headers[1].value.data(), text.data() + text.find("*/*"));
}

TEST(RequestParser, ConsumedStopsAtTheHead) {
  const std::string head = "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  const std::string text = head + "hello" + "GET / HTTP/1.1\r\n";
  RequestParser parser;
  ParseResult r = parseRequest(parser, text);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(parser.head().body.kind, BodyKind::ContentLength);
  EXPECT_EQ(parser.head().body.length, 5u);
}

TEST(RequestParser, NeedMoreUntilTheEmptyLine) {
  const std::string text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (size_t n = 0; n < text.size(); ++n) {
    RequestParser parser;
    EXPECT_EQ(parser.feed(std::string_view(text).substr(0, n)).status, ParseStatus::NeedMore) << n;
  }
}

TEST(RequestParser, BodyFraming) {
  struct Case {
    std::string fields;
    BodyKind kind;
    uint64_t length;
  };
  const Case cases[] = {
      {"", BodyKind::None, 0},
      {"Content-Length: 0\r\n", BodyKind::ContentLength, 0},
      {"Content-Length: 42\r\n", BodyKind::ContentLength, 42},
      {"Content-Length: 0042\r\n", BodyKind::ContentLength, 42},
      {"Content-Length: 9223372036854775807\r\n", BodyKind::ContentLength, 9223372036854775807u},
      {"Content-Length: 7\r\nContent-Length: 7\r\n", BodyKind::ContentLength, 7},
      {"Content-Length: 7, 7\r\n", BodyKind::ContentLength, 7},
      {"Content-Length: 7,7,7\r\n", BodyKind::ContentLength, 7},
      {"Transfer-Encoding: chunked\r\n", BodyKind::Chunked, 0},
      {"Transfer-Encoding: Chunked\r\n", BodyKind::Chunked, 0},
      {"Transfer-Encoding:\tchunked\t\r\n", BodyKind::Chunked, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fields);
    const std::string text = "POST / HTTP/1.1\r\nHost: a\r\n" + c.fields + "\r\n";
    RequestParser parser;
    ParseResult r = parseRequest(parser, text);
    ASSERT_EQ(r.status, ParseStatus::Done) << fuzz::describe(r);
    EXPECT_EQ(parser.head().body.kind, c.kind);
    EXPECT_EQ(parser.head().body.length, c.length);
  }
}

TEST(RequestParser, ValuesAreTrimmedAndMayBeEmptyOrObsText) {
  const std::string text =
      "GET / HTTP/1.1\r\nHost: a\r\nX-A:   spaced value \t \r\nX-Empty:\r\nX-Blank:   \r\n"
      "X-Latin: caf\xe9\r\nX-Inner: a \t b\r\n\r\n";
  RequestParser parser;
  ASSERT_EQ(parseRequest(parser, text).status, ParseStatus::Done);
  const RequestHead& h = parser.head();
  EXPECT_EQ(h.find("x-a")->value, "spaced value");
  EXPECT_EQ(h.find("X-EMPTY")->value, "");
  EXPECT_EQ(h.find("x-blank")->value, "");
  EXPECT_EQ(h.find("x-latin")->value, "caf\xe9");
  EXPECT_EQ(h.find("x-inner")->value, "a \t b");
  EXPECT_EQ(h.find("x-missing"), nullptr);
}

TEST(RequestParser, KeepAliveRules) {
  struct Case {
    std::string text;
    bool keepAlive;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    RequestParser parser;
    ASSERT_EQ(parseRequest(parser, c.text).status, ParseStatus::Done);
    EXPECT_EQ(parser.head().keepAlive, c.keepAlive);
  }
}

TEST(RequestParser, Http10WithoutHost) {
  const std::string text = "GET / HTTP/1.0\r\nAccept: */*\r\n\r\n";
  RequestParser parser;
  ASSERT_EQ(parseRequest(parser, text).status, ParseStatus::Done);
  EXPECT_EQ(parser.head().version, Version::Http10);
  EXPECT_EQ(parser.head().host, "");
}

TEST(RequestParser, EmptyHostIsAllowed) {
  const std::string text = "GET / HTTP/1.1\r\nHost:\r\n\r\n";
  RequestParser parser;
  ASSERT_EQ(parseRequest(parser, text).status, ParseStatus::Done);
  EXPECT_EQ(parser.head().host, "");
}

TEST(RequestParser, UpgradeAndExpect) {
  struct Case {
    std::string text;
    bool upgrade;
    bool expectContinue;
  };
  const Case cases[] = {
      {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", true, false},
      {"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", false, false},
      {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", false, false},
      {"GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", false, false},
      {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", false, true},
      {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n", false, false},
      {"PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", false, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    RequestParser parser;
    ASSERT_EQ(parseRequest(parser, c.text).status, ParseStatus::Done);
    EXPECT_EQ(parser.head().upgrade, c.upgrade);
    EXPECT_EQ(parser.head().expectContinue, c.expectContinue);
  }
}

TEST(RequestParser, TargetForms) {
  struct Case {
    std::string line;
    TargetForm form;
    Method method;
  };
  const Case cases[] = {
      {"GET /a/b?c HTTP/1.1", TargetForm::Origin, Method::Get},
      {"GET http://example.com/x HTTP/1.1", TargetForm::Absolute, Method::Get},
      {"GET coap+tcp://h HTTP/1.1", TargetForm::Absolute, Method::Get},
      {"CONNECT example.com:443 HTTP/1.1", TargetForm::Authority, Method::Connect},
      {"CONNECT [::1]:8443 HTTP/1.1", TargetForm::Authority, Method::Connect},
      {"OPTIONS * HTTP/1.1", TargetForm::Asterisk, Method::Options},
      {"OPTIONS / HTTP/1.1", TargetForm::Origin, Method::Options},
      {"PROPFIND /dav HTTP/1.1", TargetForm::Origin, Method::Other},
      {"get / HTTP/1.1", TargetForm::Origin, Method::Other},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    const std::string text = c.line + "\r\nHost: example.com\r\n\r\n";
    RequestParser parser;
    ASSERT_EQ(parseRequest(parser, text).status, ParseStatus::Done);
    EXPECT_EQ(parser.head().targetForm, c.form);
    EXPECT_EQ(parser.head().methodId, c.method);
  }
}

TEST(RequestParser, EmptyLinesBeforeTheRequestLineAreSkipped) {
  const std::string text = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestParser parser;
  ParseResult r = parseRequest(parser, text);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(r.consumed, text.size());
  EXPECT_EQ(parser.head().method, "GET");
  EXPECT_EQ(requestVerdict("\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

TEST(RequestParser, RequestLineLimit) {
  Limits limits;
  limits.maxRequestLine = 64;
  // "GET /aaa... HTTP/1.1\r\n" of exactly 64 bytes is accepted, 65 is not.
  const std::string fixed = "GET / HTTP/1.1\r\n";
  const std::string fits = "GET /" + std::string(64 - fixed.size(), 'a') + " HTTP/1.1\r\n";
  ASSERT_EQ(fits.size(), 64u);
  EXPECT_EQ(requestVerdict(fits + "Host: a\r\n\r\n", limits), 0);
  const std::string over = "GET /" + std::string(65 - fixed.size(), 'a') + " HTTP/1.1\r\n";
  EXPECT_EQ(requestVerdict(over + "Host: a\r\n\r\n", limits), 414);
  // Leading empty lines count.
  EXPECT_EQ(requestVerdict("\r\n" + fits + "Host: a\r\n\r\n", limits), 414);
  // Without a line end, 414 as soon as the limit is passed.
  RequestParser parser(limits);
  ParseResult r = parser.feed(std::string(64, 'G'));
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.error.status, 414);
  EXPECT_EQ(r.error.offset, 64u);
  RequestParser shorter(limits);
  EXPECT_EQ(shorter.feed(std::string(63, 'G')).status, ParseStatus::NeedMore);
}

TEST(RequestParser, DefaultRequestLineLimitIs8KiB) {
  const std::string fixed = "GET / HTTP/1.1\r\n";
  const std::string fits = "GET /" + std::string(8192 - fixed.size(), 'a') + " HTTP/1.1\r\n";
  RequestParser parser;
  EXPECT_EQ(parser.feed(fits + "Host: a\r\n\r\n").status, ParseStatus::Done);
  RequestParser over;
  EXPECT_EQ(over.feed("GET /a" + fits.substr(5) + "Host: a\r\n\r\n").error.status, 414);
}

TEST(RequestParser, HeaderSectionLimit) {
  Limits limits;
  limits.maxHeaderBytes = 32;
  // "Host: a\r\n" (9) + "X: <v>\r\n" + "\r\n" = 32 exactly.
  const std::string value(32 - 9 - 2 - 5, 'v');
  EXPECT_EQ(requestVerdict("GET / HTTP/1.1\r\nHost: a\r\nX: " + value + "\r\n\r\n", limits), 0);
  EXPECT_EQ(requestVerdict("GET / HTTP/1.1\r\nHost: a\r\nX: " + value + "v\r\n\r\n", limits), 431);
  // Default: 64 KiB.
  const std::string big(64 * 1024, 'v');
  EXPECT_EQ(RequestParser().feed("GET / HTTP/1.1\r\nHost: a\r\nX: " + big + "\r\n\r\n").error.status, 431);
}

TEST(RequestParser, HeaderCountLimit) {
  std::string fields;
  for (int i = 0; i < 99; ++i) {
    fields += "X-" + std::to_string(i) + ": v\r\n";
  }
  RequestParser parser;
  ParseResult r = parser.feed("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n");
  EXPECT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(parser.head().headers.size(), 100u);
  RequestParser over;
  EXPECT_EQ(over.feed("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "X-Last: v\r\n\r\n").error.status, 431);

  Limits limits;
  limits.maxHeaders = 2;
  EXPECT_EQ(requestVerdict("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\r\n", limits), 0);
  EXPECT_EQ(requestVerdict("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", limits), 431);
}

TEST(RequestParser, BodySizeLimit) {
  Limits limits;
  limits.maxBodySize = 100;
  EXPECT_EQ(requestVerdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", limits), 0);
  EXPECT_EQ(requestVerdict("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", limits), 413);
}

TEST(RequestParser, FinalStatesStayUntilReset) {
  const std::string text = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestParser parser;
  ParseResult r = parser.feed(text);
  ASSERT_EQ(r.status, ParseStatus::Done);
  ParseResult again = parser.feed(text + "more");
  EXPECT_EQ(again.status, ParseStatus::Done);
  EXPECT_EQ(again.consumed, r.consumed);

  RequestParser bad;
  ParseResult e = bad.feed("GET / HTTP/1.1\nHost: a\r\n\r\n");
  ASSERT_EQ(e.status, ParseStatus::Error);
  EXPECT_EQ(bad.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n").error.reason, e.error.reason);
  bad.reset();
  EXPECT_EQ(bad.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n").status, ParseStatus::Done);
}

TEST(RequestParser, PipelinedRequestsWithReset) {
  const std::string text =
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\nok"
      "GET /3 HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n";
  RequestParser parser;
  std::string_view rest = text;
  std::vector<std::string> seen;
  while (!rest.empty()) {
    ParseResult r = parser.feed(rest);
    ASSERT_EQ(r.status, ParseStatus::Done) << fuzz::describe(r);
    const RequestHead& h = parser.head();
    seen.push_back(std::string(h.target) + "@" + std::string(h.host) + (h.keepAlive ? "+" : "-"));
    rest.remove_prefix(r.consumed + (h.body.kind == BodyKind::ContentLength ? h.body.length : 0));
    parser.reset();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"/1@a+", "/2@b+", "/3@c-"}));
  // A previous message's fields do not leak into the next.
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\n\r\n").error.reason, "missing Host");
}

TEST(RequestParser, TheBufferMayMoveBetweenCalls) {
  const std::string text = "GET /moving HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(300, 'x') + "\r\n\r\n";
  RequestParser parser;
  std::string first = text.substr(0, 40);
  ASSERT_EQ(parser.feed(first).status, ParseStatus::NeedMore);
  first.assign(1000, '\0');  // the old bytes are gone
  std::string second = text.substr(0, 200);
  ASSERT_EQ(parser.feed(second).status, ParseStatus::NeedMore);
  const std::string all = text;
  ASSERT_EQ(parser.feed(all).status, ParseStatus::Done);
  EXPECT_EQ(parser.head().target, "/moving");
  EXPECT_EQ(parser.head().target.data(), all.data() + 4);
  EXPECT_EQ(parser.head().find("x-long")->value, std::string(300, 'x'));
}

TEST(RequestParser, ErrorOffsetsPointAtTheFault) {
  struct Case {
    std::string text;
    size_t offset;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 29},
      {"GET / HTTP/1.1\nHost: a\r\n\r\n", 14},
      {"GET /a\x7f HTTP/1.1\r\n", 6},
      {"GET / HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n", 28},
      {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 25},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    RequestParser parser;
    ParseResult r = parseRequest(parser, c.text);
    ASSERT_EQ(r.status, ParseStatus::Error);
    EXPECT_EQ(r.error.offset, c.offset) << r.error.reason;
  }
}

}  // namespace
}  // namespace fulcrum::http

// Every request the parser must refuse, with the status it answers. Each case is also fed one
// byte at a time (see parseRequest) and must fail the same way.
#include <gtest/gtest.h>

#include <string>

#include "http_test_helpers.h"

namespace fulcrum::http {
namespace {

using testing::requestVerdict;

struct Rejection {
  const char* rule;
  std::string text;
  int status;
};

void expectAll(const std::vector<Rejection>& cases) {
  for (const Rejection& c : cases) {
    SCOPED_TRACE(std::string(c.rule) + ": " + c.text);
    EXPECT_EQ(requestVerdict(c.text), c.status);
  }
}

const std::string kHost = "Host: a\r\n";

TEST(RequestRejection, LineEndings) {
  expectAll({
      {"bare LF after request line", "GET / HTTP/1.1\n" + kHost + "\r\n", 400},
      {"bare LF after field", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
      {"bare LF as final line", "GET / HTTP/1.1\r\n" + kHost + "\n", 400},
      {"bare CR in request line", "GET /\r HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"bare CR in value", "GET / HTTP/1.1\r\n" + kHost + "X: a\rb\r\n\r\n", 400},
      {"bare CR as line end", "GET / HTTP/1.1\r\nHost: a\r\rX: b\r\n\r\n", 400},
      {"CR CR LF", "GET / HTTP/1.1\r\r\n" + kHost + "\r\n", 400},
      {"bare LF before request line", "\nGET / HTTP/1.1\r\n" + kHost + "\r\n", 400},
  });
}

TEST(RequestRejection, RequestLine) {
  expectAll({
      {"two spaces after method", "GET  / HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"two spaces before version", "GET /  HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"tab separator", "GET\t/ HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"trailing space", "GET / HTTP/1.1 \r\n" + kHost + "\r\n", 400},
      {"leading space", " GET / HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"space in target", "GET /a b HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"CTL in target", "GET /a\x01 HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"NUL in target", std::string("GET /a\0b HTTP/1.1\r\n", 19) + kHost + "\r\n", 400},
      {"DEL in target", "GET /\x7f HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"non-ASCII in target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"non-token method", "GE(T / HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"empty method", " / HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"HTTP/0.9 style", "GET /\r\n" + kHost + "\r\n", 400},
      {"only a method", "GET\r\n" + kHost + "\r\n", 400},
      {"lower-case version", "GET / http/1.1\r\n" + kHost + "\r\n", 400},
      {"garbage version", "GET / HTTP/1.1x\r\n" + kHost + "\r\n", 400},
      {"short version", "GET / HTTP/1\r\n" + kHost + "\r\n", 400},
      {"asterisk outside OPTIONS", "GET * HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"CONNECT with origin form", "CONNECT / HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"CONNECT without port", "CONNECT example.com HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"CONNECT with path", "CONNECT example.com:443/x HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"target neither origin nor absolute", "GET example.com HTTP/1.1\r\n" + kHost + "\r\n", 400},
      {"absolute form with bad scheme", "GET 1http://a/ HTTP/1.1\r\n" + kHost + "\r\n", 400},
  });
}

TEST(RequestRejection, Versions) {
  expectAll({
      {"HTTP/2.0", "GET / HTTP/2.0\r\n" + kHost + "\r\n", 505},
      {"HTTP/1.2", "GET / HTTP/1.2\r\n" + kHost + "\r\n", 505},
      {"HTTP/0.9", "GET / HTTP/0.9\r\n" + kHost + "\r\n", 505},
      {"HTTP/3.0", "GET / HTTP/3.0\r\n" + kHost + "\r\n", 505},
  });
}

TEST(RequestRejection, FieldSyntax) {
  const std::string line = "GET / HTTP/1.1\r\n" + kHost;
  expectAll({
      {"obs-fold with SP", line + "X: a\r\n b\r\n\r\n", 400},
      {"obs-fold with HTAB", line + "X: a\r\n\tb\r\n\r\n", 400},
      {"first field line folded", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
      {"space before colon", line + "X-Foo : a\r\n\r\n", 400},
      {"tab before colon", line + "X-Foo\t: a\r\n\r\n", 400},
      {"space inside name", line + "X Foo: a\r\n\r\n", 400},
      {"non-tchar in name", line + "X@Foo: a\r\n\r\n", 400},
      {"non-ASCII in name", line + "X-F\xc3\xb6o: a\r\n\r\n", 400},
      {"empty name", line + ": a\r\n\r\n", 400},
      {"no colon", line + "X-Foo\r\n\r\n", 400},
      {"NUL in value", line + std::string("X: a\0b\r\n\r\n", 10), 400},
      {"CTL in value",
       line + "X: a\x01"
              "b\r\n\r\n",
       400},
      {"DEL in value", line + "X: a\x7f\r\n\r\n", 400},
      {"vertical tab in value",
       line + "X: \x0b"
              "a\r\n\r\n",
       400},
      {"form feed in value", line + "X: a\x0c\r\n\r\n", 400},
  });
}

TEST(RequestRejection, Host) {
  expectAll({
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 400},
      {"two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
      {"two Host fields, other case", "GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n", 400},
      {"two Host fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"space inside Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"slash in Host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
      {"userinfo in Host", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
  });
}

TEST(RequestRejection, ContentLength) {
  const std::string line = "POST / HTTP/1.1\r\n" + kHost;
  expectAll({
      {"leading plus", line + "Content-Length: +5\r\n\r\n", 400},
      {"negative", line + "Content-Length: -5\r\n\r\n", 400},
      {"space inside", line + "Content-Length: 1 2\r\n\r\n", 400},
      {"hex", line + "Content-Length: 0x5\r\n\r\n", 400},
      {"trailing letter", line + "Content-Length: 5a\r\n\r\n", 400},
      {"decimal point", line + "Content-Length: 5.0\r\n\r\n", 400},
      {"empty", line + "Content-Length:\r\n\r\n", 400},
      {"list of differing values", line + "Content-Length: 1,2\r\n\r\n", 400},
      {"list with an empty element", line + "Content-Length: 5,,5\r\n\r\n", 400},
      {"list with a trailing comma", line + "Content-Length: 5,\r\n\r\n", 400},
      {"differing duplicates", line + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
      {"malformed duplicate", line + "Content-Length: 5\r\nContent-Length: 5x\r\n\r\n", 400},
      {"2^63", line + "Content-Length: 9223372036854775808\r\n\r\n", 400},
      {"2^64", line + "Content-Length: 18446744073709551616\r\n\r\n", 400},
      {"20 digits", line + "Content-Length: 00000000000000000005\r\n\r\n", 400},
      {"huge", line + "Content-Length: 99999999999999999999999999\r\n\r\n", 400},
  });
}

TEST(RequestRejection, TransferEncoding) {
  const std::string line = "POST / HTTP/1.1\r\n" + kHost;
  expectAll({
      {"with Content-Length", line + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"unknown coding before chunked", line + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"unknown coding before chunked, two lines",
       line + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
      {"chunked not last", line + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400},
      {"identity after chunked", line + "Transfer-Encoding: chunked, identity\r\n\r\n", 400},
      {"identity alone", line + "Transfer-Encoding: identity\r\n\r\n", 400},
      {"chunked twice", line + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
      {"chunked on two lines", line + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"xchunked", line + "Transfer-Encoding: xchunked\r\n\r\n", 400},
      {"chunked with a parameter", line + "Transfer-Encoding: chunked;q=1\r\n\r\n", 400},
      {"quoted", line + "Transfer-Encoding: \"chunked\"\r\n\r\n", 400},
      {"empty", line + "Transfer-Encoding:\r\n\r\n", 400},
      {"empty element", line + "Transfer-Encoding: , chunked\r\n\r\n", 400},
      {"in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
  });
}

TEST(RequestRejection, Connection) {
  const std::string line = "GET / HTTP/1.1\r\n" + kHost;
  expectAll({
      {"not a token list", line + "Connection: keep alive\r\n\r\n", 400},
      {"empty", line + "Connection:\r\n\r\n", 400},
      {"names Content-Length", line + "Connection: Content-Length\r\nContent-Length: 0\r\n\r\n", 400},
      {"names Transfer-Encoding", line + "Connection: close, transfer-encoding\r\n\r\n", 400},
      {"names Host", line + "Connection: host\r\n\r\n", 400},
  });
}

}  // namespace
}  // namespace fulcrum::http

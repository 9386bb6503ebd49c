// A chunked response for an HTTP/1.0 client, whole: de-chunked behind its Content-Length.
#include "http/h1/http10_response.h"

#include <gtest/gtest.h>

#include "codec/parser.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

struct Response {
  explicit Response(std::string raw) : text(std::move(raw)) {
    auto r = parser.feed(text);
    EXPECT_EQ(r.status, ParseStatus::Done);
    head_length = r.consumed;
  }
  std::string_view body() const { return std::string_view(text).substr(head_length); }
  std::string text;
  ResponseParser parser;
  size_t head_length = 0;
};

}  // namespace

TEST(Http10Response, AWholeChunkedBodyGoesWithItsLength) {
  Response r("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
             "5\r\nhello\r\n006\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nNEXT");
  ResponseParams p;
  p.head = &r.parser.head();
  p.client_http10 = true;
  std::string out;
  size_t used = writeWholeDechunked(out, p, r.body());
  EXPECT_EQ(used, r.body().size() - 4) << "up to the end of the trailers, not the bytes after";
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\nhello world")
      << "no chunked coding, no trailers";
}

TEST(Http10Response, APartOrMalformedBodyWritesNothing) {
  Response part("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
  ResponseParams p;
  p.head = &part.parser.head();
  p.client_http10 = true;
  std::string out;
  EXPECT_EQ(writeWholeDechunked(out, p, part.body()), 0u);
  EXPECT_TRUE(out.empty());
  Response bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  p.head = &bad.parser.head();
  EXPECT_EQ(writeWholeDechunked(out, p, bad.body()), 0u);
  EXPECT_TRUE(out.empty());
}

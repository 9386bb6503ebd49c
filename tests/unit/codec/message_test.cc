// MessageHead helpers: field lookup, hop-by-hop detection, method recognition.
#include <gtest/gtest.h>

#include <string>

#include "http_test_helpers.h"

namespace fulcrum::http {
namespace {

TEST(MessageHead, HopByHop) {
  const std::string text =
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Session-Token\r\nconnection: X-Other\r\n"
      "X-Session-Token: s\r\nKeep-Alive: timeout=5\r\nAccept: */*\r\n\r\n";
  RequestParser parser;
  ASSERT_EQ(parser.feed(text).status, ParseStatus::Done);
  const RequestHead& h = parser.head();
  for (const char* name : {"Connection", "keep-alive", "Proxy-Connection", "TE", "Transfer-Encoding",
                           "upgrade", "x-session-token", "X-OTHER"}) {
    EXPECT_TRUE(h.isHopByHop(name)) << name;
  }
  for (const char* name : {"Host", "Accept", "X-Session", "Trailer", "Content-Length", "x-session-token2"}) {
    EXPECT_FALSE(h.isHopByHop(name)) << name;
  }
}

TEST(MessageHead, FindIsCaseInsensitiveAndReturnsTheFirst) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n";
  ResponseParser parser;
  ASSERT_EQ(parser.feed(text).status, ParseStatus::Done);
  ASSERT_NE(parser.head().find("SET-COOKIE"), nullptr);
  EXPECT_EQ(parser.head().find("SET-COOKIE")->value, "a=1");
  EXPECT_EQ(parser.head().headers.size(), 3u);
}

TEST(MessageHead, MethodsAreCaseSensitive) {
  EXPECT_EQ(methodFromToken("GET"), Method::Get);
  EXPECT_EQ(methodFromToken("HEAD"), Method::Head);
  EXPECT_EQ(methodFromToken("POST"), Method::Post);
  EXPECT_EQ(methodFromToken("PUT"), Method::Put);
  EXPECT_EQ(methodFromToken("DELETE"), Method::Delete);
  EXPECT_EQ(methodFromToken("CONNECT"), Method::Connect);
  EXPECT_EQ(methodFromToken("OPTIONS"), Method::Options);
  EXPECT_EQ(methodFromToken("TRACE"), Method::Trace);
  EXPECT_EQ(methodFromToken("PATCH"), Method::Patch);
  EXPECT_EQ(methodFromToken("get"), Method::Other);
  EXPECT_EQ(methodFromToken("GETS"), Method::Other);
  EXPECT_EQ(methodFromToken(""), Method::Other);
}

TEST(MessageHead, ResponseContextForMethod) {
  EXPECT_TRUE(ResponseContext::forMethod(Method::Head).headRequest);
  EXPECT_TRUE(ResponseContext::forMethod(Method::Connect).connectRequest);
  EXPECT_FALSE(ResponseContext::forMethod(Method::Get).headRequest);
}

}  // namespace
}  // namespace fulcrum::http

// The HTTP/1 codec's neutral request: what filters read has no HTTP/1 in it.
#include "http/h1/request_decoder.h"

#include <gtest/gtest.h>

#include "codec/parser.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

struct Decoded {
  explicit Decoded(std::string raw, config::DotSegments dots = config::DotSegments::Reject) : text(std::move(raw)) {
    EXPECT_EQ(parser.feed(text).status, ParseStatus::Done) << text;
    ok = decodeRequest(parser.head(), dots, scratch, req, why);
  }
  std::string text;
  RequestParser parser;
  std::string scratch;
  Request req;
  std::string_view why;
  bool ok = false;
};

}  // namespace

TEST(RequestDecoder, OriginFormGivesNeutralFields) {
  Decoded d("POST /api/x?a=1 HTTP/1.1\r\nHost: Example.com:8080\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nhi");
  ASSERT_TRUE(d.ok) << d.why;
  EXPECT_EQ(d.req.method, "POST");
  EXPECT_EQ(d.req.method_id, Method::Post);
  EXPECT_EQ(d.req.scheme, "http");
  EXPECT_EQ(d.req.authority, "Example.com:8080");
  EXPECT_EQ(d.req.host, "Example.com");
  EXPECT_EQ(d.req.path, "/api/x");
  EXPECT_EQ(d.req.query, "a=1");
  EXPECT_EQ(d.req.uri, "/api/x?a=1");
  ASSERT_NE(d.req.find("x-a"), nullptr);
  EXPECT_EQ(d.req.find("x-a")->value, "1");
  EXPECT_FALSE(d.req.upgrade);
}

TEST(RequestDecoder, AnAbsoluteTargetsAuthorityWinsOverHost) {
  Decoded d("GET http://api.example.com:81/p HTTP/1.1\r\nHost: other\r\n\r\n");
  ASSERT_TRUE(d.ok) << d.why;
  EXPECT_EQ(d.req.authority, "api.example.com:81");
  EXPECT_EQ(d.req.host, "api.example.com");
  EXPECT_EQ(d.req.uri, "/p");
}

TEST(RequestDecoder, UpgradeNamesItsProtocol) {
  Decoded d("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_TRUE(d.ok) << d.why;
  EXPECT_TRUE(d.req.upgrade);
  EXPECT_EQ(d.req.upgrade_protocol, "websocket");
}

TEST(RequestDecoder, DotSegmentsRejectedOrNormalized) {
  Decoded rejected("GET /a/../b HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_FALSE(rejected.ok);
  EXPECT_EQ(rejected.why, "dot segment in the path");
  Decoded normalized("GET /a/%2e%2e/b?q HTTP/1.1\r\nHost: h\r\n\r\n", config::DotSegments::Normalize);
  ASSERT_TRUE(normalized.ok) << normalized.why;
  EXPECT_EQ(normalized.req.path, "/b");
  EXPECT_EQ(normalized.req.uri, "/b?q");
}

TEST(RequestDecoder, ConnectIsRefused) {
  Decoded d("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_FALSE(d.ok);
}

#pragma once
// ParsedRequest: raw HTTP/1 bytes parsed and decoded to the neutral Request the filters and
// routers read, the bytes kept alive with it. For the http unit tests.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "codec/parser.h"
#include "http/h1/request_decoder.h"

namespace fulcrum::test {

struct ParsedRequest {
  explicit ParsedRequest(std::string raw) : text(std::move(raw)) {
    auto r = parser.feed(text);
    EXPECT_EQ(r.status, http::ParseStatus::Done) << text;
    head_length = r.consumed;
    std::string_view why;
    EXPECT_TRUE(http::decodeRequest(parser.head(), request, why)) << why;
  }
  // What follows the head, and its framing as the parser decided.
  std::string_view body() const { return std::string_view(text).substr(head_length); }
  http::BodyFraming framing() const { return parser.head().body; }

  std::string text;
  http::RequestParser parser;
  http::Request request;
  size_t head_length = 0;
};

}  // namespace fulcrum::test

#pragma once
// Helpers for the HTTP/1 parser tests: every parse also checks that one byte at a time gives
// the same answer as everything at once.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "../../../fuzz/http/http_fuzz_properties.h"
#include "codec/chunked.h"
#include "codec/parser.h"

namespace fulcrum::http::testing {

inline std::vector<size_t> everyCut(std::string_view text) {
  std::vector<size_t> cuts;
  for (size_t i = 0; i < text.size(); ++i) {
    cuts.push_back(i);
  }
  return cuts;
}

// Parses `text` (which must outlive the head's views) in one call.
inline ParseResult parseRequest(RequestParser& parser, std::string_view text, const Limits& limits = {}) {
  ParseResult r = parser.feed(text);
  RequestParser bytewise(limits);
  EXPECT_EQ(fuzz::feedSplit(bytewise, text, everyCut(text)), fuzz::describeFinal(r, parser))
      << "byte-at-a-time differs for: " << text;
  return r;
}

inline ParseResult parseResponse(ResponseParser& parser, std::string_view text, const Limits& limits = {},
                                 ResponseContext context = {}) {
  ParseResult r = parser.feed(text);
  ResponseParser bytewise(limits, context);
  EXPECT_EQ(fuzz::feedSplit(bytewise, text, everyCut(text)), fuzz::describeFinal(r, parser))
      << "byte-at-a-time differs for: " << text;
  return r;
}

// Just the status a request gets (0 when Done, 1 when NeedMore), checked byte by byte too.
inline int requestVerdict(std::string_view text, const Limits& limits = {}) {
  RequestParser parser(limits);
  ParseResult r = parseRequest(parser, text, limits);
  return r.status == ParseStatus::Error ? r.error.status : (r.status == ParseStatus::Done ? 0 : 1);
}

inline int responseVerdict(std::string_view text, ResponseContext context = {}, const Limits& limits = {}) {
  ResponseParser parser(limits, context);
  ParseResult r = parseResponse(parser, text, limits, context);
  return r.status == ParseStatus::Error ? r.error.status : (r.status == ParseStatus::Done ? 0 : 1);
}

// Decodes a whole chunked body and checks every split (each cut point alone, and byte by
// byte) decodes the same.
inline fuzz::ChunkedOutcome decodeChunked(std::string_view body, const Limits& limits = {}) {
  fuzz::ChunkedOutcome whole = fuzz::decodeInPieces(limits, body, {});
  EXPECT_EQ(whole.violation, "");
  const fuzz::ChunkedOutcome bytewise = fuzz::decodeInPieces(limits, body, everyCut(body));
  EXPECT_EQ(fuzz::describe(bytewise), fuzz::describe(whole)) << "byte-at-a-time differs for: " << body;
  EXPECT_EQ(bytewise.payload, whole.payload);
  EXPECT_EQ(bytewise.violation, "");
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    const fuzz::ChunkedOutcome two = fuzz::decodeInPieces(limits, body, {cut});
    EXPECT_EQ(fuzz::describe(two), fuzz::describe(whole)) << "cut at " << cut << ": " << body;
  }
  return whole;
}

}  // namespace fulcrum::http::testing

// ChunkedDecoder: payload, extensions, trailers, limits and every malformed framing. Each body
// is also decoded byte by byte and cut at every point (see decodeChunked).
#include <gtest/gtest.h>

#include <string>

#include "codec/chunked.h"
#include "http_test_helpers.h"

namespace fulcrum::http {
namespace {

using testing::decodeChunked;

std::string errorOf(std::string_view body, const Limits& limits = {}) {
  fuzz::ChunkedOutcome o = decodeChunked(body, limits);
  return o.status;
}

TEST(ChunkedDecoder, SingleChunk) {
  const std::string body = "5\r\nhello\r\n0\r\n\r\n";
  fuzz::ChunkedOutcome o = decodeChunked(body);
  EXPECT_EQ(o.status, "Done body=5");
  EXPECT_EQ(o.payload, "hello");
  EXPECT_EQ(o.consumed, body.size());
  EXPECT_EQ(o.trailers, "");
}

TEST(ChunkedDecoder, DataIsAViewIntoTheInput) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT";
  ChunkedDecoder decoder;
  std::string_view in = body;
  ChunkResult r = decoder.decode(in);
  ASSERT_EQ(r.status, ChunkStatus::Data);
  EXPECT_EQ(r.data, "hello");
  EXPECT_EQ(r.data.data(), body.data() + 3);
  EXPECT_EQ(r.consumed, 8u);
  in.remove_prefix(r.consumed);
  r = decoder.decode(in);
  ASSERT_EQ(r.status, ChunkStatus::Data);
  EXPECT_EQ(r.data, " world");
  in.remove_prefix(r.consumed);
  r = decoder.decode(in);
  ASSERT_EQ(r.status, ChunkStatus::Done);
  in.remove_prefix(r.consumed);
  EXPECT_EQ(in, "NEXT");
  EXPECT_EQ(decoder.bodySize(), 11u);
  // Final: nothing more is consumed.
  EXPECT_EQ(decoder.decode(in).status, ChunkStatus::Done);
  EXPECT_EQ(decoder.decode(in).consumed, 0u);
}

TEST(ChunkedDecoder, ManyChunksAndHexSizes) {
  const std::string big(0x1a, 'z');
  const std::string body = "1\r\na\r\nA\r\n0123456789\r\n1A\r\n" + big + "\r\n00000\r\n\r\n";
  fuzz::ChunkedOutcome o = decodeChunked(body);
  EXPECT_EQ(o.status, "Done body=37");
  EXPECT_EQ(o.payload, "a0123456789" + big);
}

TEST(ChunkedDecoder, PartialDataIsDeliveredAsItArrives) {
  ChunkedDecoder decoder;
  ChunkResult r = decoder.decode("b\r\nhel");
  ASSERT_EQ(r.status, ChunkStatus::Data);
  EXPECT_EQ(r.data, "hel");
  EXPECT_EQ(r.consumed, 6u);
  r = decoder.decode("");
  EXPECT_EQ(r.status, ChunkStatus::NeedMore);
  r = decoder.decode("lo worl");
  ASSERT_EQ(r.status, ChunkStatus::Data);
  EXPECT_EQ(r.data, "lo worl");
  r = decoder.decode("d\r");
  ASSERT_EQ(r.status, ChunkStatus::Data);
  EXPECT_EQ(r.data, "d");
  EXPECT_EQ(r.consumed, 1u);
  r = decoder.decode("\r");
  EXPECT_EQ(r.status, ChunkStatus::NeedMore);
  EXPECT_EQ(r.consumed, 1u);
}

TEST(ChunkedDecoder, Extensions) {
  const char* const bodies[] = {
      "5;name\r\nhello\r\n0\r\n\r\n",
      "5;name=value\r\nhello\r\n0\r\n\r\n",
      "5;a=1;b;c=\"quoted ; \\\" value\"\r\nhello\r\n0;last=yes\r\n\r\n",
      "5;sig=\"\"\r\nhello\r\n0\r\n\r\n",
      "5;chunk-signature="
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\nhello\r\n0\r\n\r\n",
  };
  for (const char* body : bodies) {
    SCOPED_TRACE(body);
    fuzz::ChunkedOutcome o = decodeChunked(body);
    EXPECT_EQ(o.status, "Done body=5");
    EXPECT_EQ(o.payload, "hello");
  }
}

TEST(ChunkedDecoder, Trailers) {
  const std::string body =
      "3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Empty:\r\nServer-Timing:  db;dur=53 \r\n\r\nNEXT";
  fuzz::ChunkedOutcome o = decodeChunked(body);
  EXPECT_EQ(o.status, "Done body=3");
  EXPECT_EQ(o.trailers, "[X-Checksum=1234][X-Empty=][Server-Timing=db;dur=53]");
  EXPECT_EQ(o.consumed, body.size() - 4);
}

TEST(ChunkedDecoder, TrailerBytesStayUnconsumedUntilComplete) {
  ChunkedDecoder decoder;
  ChunkResult r = decoder.decode("0\r\nX-A: 1\r\nX-B");
  EXPECT_EQ(r.status, ChunkStatus::NeedMore);
  EXPECT_EQ(r.consumed, 3u);  // only "0\r\n"
  r = decoder.decode("X-A: 1\r\nX-B: 2\r\n");
  EXPECT_EQ(r.status, ChunkStatus::NeedMore);
  EXPECT_EQ(r.consumed, 0u);
  const std::string rest = "X-A: 1\r\nX-B: 2\r\n\r\n";
  r = decoder.decode(rest);
  ASSERT_EQ(r.status, ChunkStatus::Done);
  EXPECT_EQ(r.consumed, rest.size());
  ASSERT_EQ(decoder.trailers().size(), 2u);
  EXPECT_EQ(decoder.trailers()[1].name, "X-B");
  EXPECT_EQ(decoder.trailers()[1].value.data(), rest.data() + 13);
}

TEST(ChunkedDecoder, MalformedSizeLines) {
  const char* const bodies[] = {
      "\r\nhello\r\n0\r\n\r\n",        // no size
      " 5\r\nhello\r\n0\r\n\r\n",      // leading space
      "5 \r\nhello\r\n0\r\n\r\n",      // trailing space
      "5\t\r\nhello\r\n0\r\n\r\n",     // trailing tab
      "0x5\r\nhello\r\n0\r\n\r\n",     // C-style hex
      "-5\r\nhello\r\n0\r\n\r\n",      // sign
      "+5\r\nhello\r\n0\r\n\r\n",      // sign
      "5g\r\nhello\r\n0\r\n\r\n",      // not hex
      "5\nhello\r\n0\r\n\r\n",         // bare LF
      "5\rhello\r\n0\r\n\r\n",         // bare CR
      "5\r\r\nhello\r\n0\r\n\r\n",     // CR CR LF
      "5 ;a=b\r\nhello\r\n0\r\n\r\n",  // space before an extension
      "5;\r\nhello\r\n0\r\n\r\n",      // empty extension name
      "5; a=b\r\nhello\r\n0\r\n\r\n",  // space in an extension
      "5;a =b\r\nhello\r\n0\r\n\r\n",
      "5;a=\r\nhello\r\n0\r\n\r\n",  // empty extension value
      "5;a=\"open\r\nhello\r\n0\r\n\r\n",
      "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n",
      "5;a=b=c\r\nhello\r\n0\r\n\r\n",
      "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n",
      "5;a\x01\r\nhello\r\n0\r\n\r\n",
      "0\n\r\n",  // bare LF on the last chunk
  };
  for (const char* body : bodies) {
    SCOPED_TRACE(body);
    EXPECT_EQ(errorOf(body).substr(0, 9), "Error 400");
  }
}

TEST(ChunkedDecoder, SizeOverflow) {
  // 16 hex digits up to 2^63-1 are fine (the data just has not arrived).
  EXPECT_EQ(errorOf("7fffffffffffffff\r\n"), "NeedMore");
  EXPECT_EQ(errorOf("00000000000000ff\r\n"), "NeedMore");
  EXPECT_EQ(errorOf("8000000000000000\r\n").substr(0, 9), "Error 400");
  EXPECT_EQ(errorOf("ffffffffffffffff\r\n").substr(0, 9), "Error 400");
  EXPECT_EQ(errorOf("10000000000000000\r\n").substr(0, 9), "Error 400");
  EXPECT_EQ(errorOf("000000000000000008000000000000000\r\n").substr(0, 9), "Error 400");  // zeros, then 2^63
}

TEST(ChunkedDecoder, LeadingZerosInSizesAreValid) {
  // RFC 9112 §7.1: the value is bounded, not the number of digits.
  fuzz::ChunkedOutcome o = decodeChunked("000000000000000000005\r\nhello\r\n00000000000000000000\r\n\r\n");
  EXPECT_EQ(o.status, "Done body=5");
  EXPECT_EQ(o.payload, "hello");
  EXPECT_EQ(errorOf(std::string(200, '0') + "7fffffffffffffff\r\n"), "NeedMore");
  // A size line of endless zeros is still cut off.
  EXPECT_EQ(errorOf(std::string(300, '0') + "5\r\n").substr(0, 9), "Error 400");
}

TEST(ChunkedDecoder, MissingCrlfAfterData) {
  const char* const bodies[] = {
      "5\r\nhelloX\r\n0\r\n\r\n",      "5\r\nhello\n0\r\n\r\n",
      "5\r\nhello\rX0\r\n\r\n",        "5\r\nhello0\r\n\r\n",
      "5\r\nhello world\r\n0\r\n\r\n",  // data longer than announced
  };
  for (const char* body : bodies) {
    SCOPED_TRACE(body);
    EXPECT_EQ(errorOf(body).substr(0, 9), "Error 400");
  }
}

TEST(ChunkedDecoder, MalformedTrailers) {
  const char* const bodies[] = {
      "0\r\nX: a\r\n b\r\n\r\n",  // obs-fold
      "0\r\n folded\r\n\r\n",
      "0\r\nX : a\r\n\r\n",  // space before colon
      "0\r\nNoColon\r\n\r\n",
      "0\r\nX: a\x01\r\n\r\n",
      "0\r\nX: a\nY: b\r\n\r\n",  // bare LF
      "0\r\nX: a\r\n\n",
      "0\r\nContent-Length: 5\r\n\r\n",  // framing fields
      "0\r\ntransfer-encoding: chunked\r\n\r\n",
      "0\r\nHost: a\r\n\r\n",
  };
  for (const char* body : bodies) {
    SCOPED_TRACE(body);
    EXPECT_EQ(errorOf(body).substr(0, 9), "Error 400");
  }
}

TEST(ChunkedDecoder, Limits) {
  Limits limits;
  limits.maxChunkExtension = 8;
  EXPECT_EQ(errorOf("5;abcdefg\r\nhello\r\n0\r\n\r\n", limits),
            "Done body=5");  // 8 bytes between size and CRLF
  EXPECT_EQ(errorOf("5;abcdefgh\r\nhello\r\n0\r\n\r\n", limits).substr(0, 9), "Error 400");

  limits = {};
  limits.maxBodySize = 10;
  EXPECT_EQ(errorOf("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limits), "Done body=10");
  EXPECT_EQ(errorOf("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", limits).substr(0, 9), "Error 413");

  limits = {};
  limits.maxTrailers = 1;
  EXPECT_EQ(errorOf("0\r\nA: 1\r\n\r\n", limits), "Done body=0");
  EXPECT_EQ(errorOf("0\r\nA: 1\r\nB: 2\r\n\r\n", limits).substr(0, 9), "Error 431");

  limits = {};
  limits.maxTrailerBytes = 10;  // "A: 123\r\n\r\n" is exactly 10
  EXPECT_EQ(errorOf("0\r\nA: 123\r\n\r\n", limits), "Done body=0");
  EXPECT_EQ(errorOf("0\r\nA: 1234\r\n\r\n", limits).substr(0, 9), "Error 431");
  EXPECT_EQ(errorOf("0\r\nA: 12345678901234567890", limits).substr(0, 9), "Error 431");
}

TEST(ChunkedDecoder, ErrorOffsetsCountFromTheBodyStart) {
  ChunkedDecoder decoder;
  ChunkResult r = decoder.decode("5\r\nhello");
  ASSERT_EQ(r.status, ChunkStatus::Data);
  r = decoder.decode("XX");
  ASSERT_EQ(r.status, ChunkStatus::Error);
  EXPECT_EQ(r.error.offset, 8u);
  EXPECT_EQ(r.error.reason, "missing CRLF after chunk data");
}

TEST(ChunkedDecoder, ResetStartsOver) {
  ChunkedDecoder decoder;
  ASSERT_EQ(decoder.decode("zz").status, ChunkStatus::Error);
  decoder.reset();
  ChunkResult r = decoder.decode("0\r\n\r\n");
  EXPECT_EQ(r.status, ChunkStatus::Done);
  EXPECT_EQ(r.consumed, 5u);
  EXPECT_EQ(decoder.bodySize(), 0u);
}

}  // namespace
}  // namespace fulcrum::http

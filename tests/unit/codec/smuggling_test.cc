// The request smuggling classics (CL.TE, TE.CL, TE.TE and their obfuscations): each must be
// refused outright, so no peer before or after us can frame the message differently.
#include <gtest/gtest.h>

#include <string>

#include "http_test_helpers.h"

namespace fulcrum::http {
namespace {

using testing::requestVerdict;

const std::string kStart = "POST /search HTTP/1.1\r\nHost: victim.example\r\n";

TEST(Smuggling, ClTe) {
  EXPECT_EQ(
      requestVerdict(kStart + "Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED"),
      400);
}

TEST(Smuggling, TeCl) {
  EXPECT_EQ(requestVerdict(
                kStart + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"),
            400);
}

TEST(Smuggling, TeTeObfuscations) {
  // Each has a Content-Length too, so that a parser ignoring the odd Transfer-Encoding would
  // frame by Content-Length while another would use chunked.
  const std::string variants[] = {
      "Transfer-Encoding : chunked",
      "Transfer-Encoding\t: chunked",
      "Transfer-Encoding: xchunked",
      "Transfer-Encoding: chunked, identity",
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: x",
      "Transfer-Encoding: x\r\nTransfer-Encoding: chunked",
      "Transfer-Encoding:\x0b"
      "chunked",
      std::string("Transfer-Encoding: chunked\0", 27),
      " Transfer-Encoding: chunked",
      "X: x\r\n Transfer-Encoding: chunked",
      "Transfer-Encoding\r\n : chunked",
      "Transfer-Encoding: \"chunked\"",
      "Transfer-Encoding: chunk",
      "Transfer-Encoding: chunked;",
      "Transfer-Encoding: identity",
      "Transfer-Encoding: cow",
  };
  for (const std::string& field : variants) {
    SCOPED_TRACE(field);
    EXPECT_EQ(requestVerdict(kStart + "Content-Length: 4\r\n" + field + "\r\n\r\n"), 400);
    // Without Content-Length they are still refused (501 for a coding we do not know).
    const int alone = requestVerdict(kStart + field + "\r\n\r\n");
    EXPECT_TRUE(alone == 400 || alone == 501) << alone;
  }
}

TEST(Smuggling, ContentLengthObfuscations) {
  const char* const variants[] = {
      "Content-Length: +4",   "Content-Length: 1,2",
      "Content-Length: 4, 5", "Content-Length : 4",
      "Content-Length: 4 4",  "Content-Length: 4\r\nContent-Length: 5",
      "Content-Length: 0x4",  "Content-Length:\t-4",
      "Content-Length: 4.",   "Content-Length: 4\r\n Content-Length: 5",
  };
  for (const char* v : variants) {
    SCOPED_TRACE(v);
    EXPECT_EQ(requestVerdict(kStart + v + "\r\n\r\nABCD"), 400);
  }
}

TEST(Smuggling, LineEndingTricks) {
  // A bare LF or CR could end a line for one parser and not for another.
  EXPECT_EQ(requestVerdict(kStart + "X: a\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"), 400);
  EXPECT_EQ(requestVerdict(kStart + "X: a\rTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"), 400);
  EXPECT_EQ(requestVerdict(kStart + "Content-Length: 4\r\n\n\r\nABCD"), 400);
}

TEST(Smuggling, HopByHopFramingStrip) {
  // "Connection: Content-Length" would make a proxy that honours it drop the framing.
  EXPECT_EQ(requestVerdict(kStart + "Connection: Content-Length\r\nContent-Length: 4\r\n\r\nABCD"), 400);
}

TEST(Smuggling, Http10TransferEncoding) {
  EXPECT_EQ(requestVerdict("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"),
            400);
}

TEST(Smuggling, CaseInsensitiveNamesStillCount) {
  EXPECT_EQ(requestVerdict(kStart + "content-length: 4\r\nTRANSFER-ENCODING: chunked\r\n\r\n"), 400);
  EXPECT_EQ(requestVerdict(kStart + "CONTENT-LENGTH: 4\r\ncontent-length: 5\r\n\r\n"), 400);
}

}  // namespace
}  // namespace fulcrum::http

// Feeding a message in pieces (every two-piece cut, and byte by byte) gives the same result
// as feeding it whole, for a corpus of accepted and refused messages; plus the fuzz
// properties on the same corpus.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http_test_helpers.h"

namespace fulcrum::http {
namespace {

const std::vector<std::string> kRequests = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /search?q=fulcrum&lang=en HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\n"
    "Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nCookie: a=b; c=d\r\n\r\n",
    "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody",
    "POST /api HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n",
    "\r\nGET / HTTP/1.0\r\n\r\n",
    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,2\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX-Incomplete: yes\r\n",
};

const std::vector<std::string> kResponses = {
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
    "HTTP/1.0 200 OK\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "HTTP/1.1 999 No\r\n\r\n",
    "HTTP/1.1 200 OK\r\nX: a\r\r\n\r\n",
};

const std::vector<std::string> kChunked = {
    "5\r\nhello\r\n0\r\n\r\n",
    "5;ext=\"v\"\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\nNEXT",
    "5\r\nhelloX",
    "fffffffffffffffff\r\n",
    "0\r\nX: a\r\n b\r\n\r\n",
    "3\r\nabc\r\n",
};

TEST(SplitFeeding, RequestsAtEveryCut) {
  for (const std::string& text : kRequests) {
    SCOPED_TRACE(text);
    RequestParser whole;
    ParseResult r = whole.feed(text);
    const std::string expected = fuzz::describeFinal(r, whole);
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      RequestParser split;
      EXPECT_EQ(fuzz::feedSplit(split, text, {cut}), expected) << "cut at " << cut;
    }
    EXPECT_EQ(fuzz::checkRequestProperty(text), "");
  }
}

TEST(SplitFeeding, ResponsesAtEveryCut) {
  for (const std::string& text : kResponses) {
    SCOPED_TRACE(text);
    ResponseParser whole;
    ParseResult r = whole.feed(text);
    const std::string expected = fuzz::describeFinal(r, whole);
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      ResponseParser split;
      EXPECT_EQ(fuzz::feedSplit(split, text, {cut}), expected) << "cut at " << cut;
    }
    EXPECT_EQ(fuzz::checkResponseProperty("G" + text), "");
    EXPECT_EQ(fuzz::checkResponseProperty("H" + text), "");
  }
}

TEST(SplitFeeding, ChunkedBodiesAtEveryCut) {
  for (const std::string& body : kChunked) {
    SCOPED_TRACE(body);
    testing::decodeChunked(body);
    EXPECT_EQ(fuzz::checkChunkedProperty(body), "");
  }
}

}  // namespace
}  // namespace fulcrum::http

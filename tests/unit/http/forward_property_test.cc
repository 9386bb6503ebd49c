// Replays fuzz_http_forward's seed corpus with its property (fuzz/http/forward_property.h):
// the head forwarded for any accepted request parses again to the same method, target and
// framing, without hop-by-hop fields.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "../../../fuzz/http/forward_property.h"

namespace fs = std::filesystem;

TEST(ForwardProperty, HoldsOverTheSeedCorpus) {
  fs::path dir = fs::path(__FILE__).parent_path() / "../../../fuzz/http/forward/corpus";
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(fulcrum::http::fuzz::checkForwardProperty(text), "") << entry.path();
    ++files;
  }
  EXPECT_GE(files, 30u);
}

TEST(ForwardProperty, CatchesWhatItGuards) {
  // Sanity: these inputs are accepted and forwarded; the property holds for them.
  for (const char* raw : {"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: x\r\nX: 1\r\n\r\n",
                          "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                          "GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\n"}) {
    EXPECT_EQ(fulcrum::http::fuzz::checkForwardProperty(raw), "") << raw;
  }
}

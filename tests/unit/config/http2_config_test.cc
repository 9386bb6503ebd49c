// listeners[].http2: what is read, the ALPN list it makes, and each mistake at its
// file:line:column.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::hasError;
using testing::load;
using testing::onlyError;

const std::string kPools = R"(pools:
  - name: a
    servers: [{address: 127.0.0.1:9001}]
)";

TEST(Http2Config, OffByDefaultAndWhenEnabledH2IsOfferedFirst) {
  auto r = load(R"(listeners:
  - name: plain
    bind: 127.0.0.1:8080
    protocol: http
    pool: a
  - name: tls
    bind: 127.0.0.1:8443
    protocol: http
    pool: a
    tls: {certificates: [{cert: c.pem, key: k.pem}]}
    http2: {enabled: true, max_concurrent_streams: 50, initial_window_size: 1048576, max_frame_size: 32768,
            max_header_list_size: 8192}
  - name: h2c
    bind: 127.0.0.1:8081
    protocol: http
    pool: a
    http2: {enabled: true}
  - name: only11
    bind: 127.0.0.1:8444
    protocol: http
    pool: a
    tls: {certificates: [{cert: c.pem, key: k.pem}], alpn: [http/1.1]}
    http2: {enabled: true}
)" + kPools);
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const auto& ls = r.config->listeners;
  EXPECT_FALSE(ls[0].http2.enabled);
  EXPECT_EQ(ls[0].http2.max_concurrent_streams, 100u);
  EXPECT_EQ(ls[0].http2.initial_window_size, 65535u);
  EXPECT_EQ(ls[0].http2.max_frame_size, 16384u);
  EXPECT_TRUE(ls[1].http2.enabled);
  EXPECT_EQ(ls[1].http2.max_concurrent_streams, 50u);
  EXPECT_EQ(ls[1].http2.initial_window_size, 1048576u);
  EXPECT_EQ(ls[1].http2.max_frame_size, 32768u);
  EXPECT_EQ(ls[1].http2.max_header_list_size, 8192u);
  EXPECT_EQ(ls[1].tls.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_TRUE(ls[2].http2.enabled);
  EXPECT_EQ(ls[3].tls.alpn, (std::vector<std::string>{"http/1.1"})) << "an alpn written out is kept as written";
}

TEST(Http2Config, OutOfRangeSettingsAndUnknownKeys) {
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: http
    pool: a
    http2:
      max_concurrent_streams: 0
      initial_window_size: 2147483648
      max_frame_size: 1000
      max_header_list_size: 10
      push: true
)" + kPools);
  EXPECT_TRUE(hasError(r, 7, 31, "max_concurrent_streams")) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 8, 28, "initial_window_size")) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 9, 23, "max_frame_size")) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 10, 29, "max_header_list_size")) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 11, 7, "push")) << testing::dump(r);
  EXPECT_EQ(r.errors.size(), 5u) << testing::dump(r);
}

TEST(Http2Config, OnlyOnHttpListenersAndH2InAlpnNeedsItEnabled) {
  auto r = load(R"(listeners:
  - name: tcp
    bind: 127.0.0.1:8080
    pool: a
    http2: {enabled: true}
  - name: web
    bind: 127.0.0.1:8443
    protocol: http
    pool: a
    tls: {certificates: [{cert: c.pem, key: k.pem}], alpn: [h2, http/1.1]}
)" + kPools);
  EXPECT_TRUE(hasError(r, 5, 5, "HTTP/2 is for http listeners")) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 10, 10, "h2 is offered but HTTP/2 is not enabled")) << testing::dump(r);
  EXPECT_EQ(r.errors.size(), 2u) << testing::dump(r);
}

}  // namespace
}  // namespace fulcrum::config

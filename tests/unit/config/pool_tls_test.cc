// pools[].tls (TLS to servers): what is read, the defaults, and each mistake at its
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

const std::string kHttp = R"(listeners:
  - name: front
    bind: 127.0.0.1:8080
    protocol: http
    pool: web
)";

TEST(PoolTlsConfig, ReadsEveryKey) {
  auto r = load(kHttp + R"(pools:
  - name: web
    tls:
      ca: certs/ca.pem
      verify: true
      server_name: API.Internal
      certificate: {cert: client.pem, key: client.key}
      min_version: "1.3"
      max_version: "1.3"
      ciphers: ECDHE-ECDSA-AES128-GCM-SHA256
      ciphersuites: TLS_AES_128_GCM_SHA256
      alpn: http/1.1
      session_reuse: false
    servers: [{address: 127.0.0.1:9001}]
)");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const PoolTls& t = r.config->pools[0].tls;
  EXPECT_TRUE(t.enabled);
  EXPECT_TRUE(t.ca.ends_with("certs/ca.pem")) << t.ca;
  EXPECT_TRUE(t.verify);
  EXPECT_EQ(t.server_name, "api.internal");
  EXPECT_TRUE(t.client_certificate.cert.ends_with("client.pem"));
  EXPECT_TRUE(t.client_certificate.key.ends_with("client.key"));
  EXPECT_NE(t.client_certificate.where.find("test.yaml:12:20: pools[0].tls.certificate"), std::string::npos)
      << t.client_certificate.where;
  EXPECT_EQ(t.min_version, 0x0304);
  EXPECT_EQ(t.max_version, 0x0304);
  EXPECT_EQ(t.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(t.ciphersuites, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(t.alpn, (std::vector<std::string>{"http/1.1"}));
  EXPECT_FALSE(t.session_reuse);
  EXPECT_NE(t.where.find("test.yaml:9:7: pools[0].tls"), std::string::npos) << t.where;
}

TEST(PoolTlsConfig, DefaultsVerifyAgainstTheSystemStoreAndNoSectionIsPlain) {
  auto r = load(kHttp + R"(pools:
  - name: web
    tls: {}
    servers: [{address: 127.0.0.1:9001}]
  - name: plain
    servers: [{address: 127.0.0.1:9002}]
  - name: system
    tls:
      ca: system
      verify: false
      server_name: 10.0.0.1
    servers: [{address: 127.0.0.1:9003}]
)");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const PoolTls& t = r.config->pools[0].tls;
  EXPECT_TRUE(t.enabled);
  EXPECT_EQ(t.ca, "");  // the system store
  EXPECT_TRUE(t.verify);
  EXPECT_EQ(t.server_name, "");
  EXPECT_TRUE(t.client_certificate.cert.empty());
  EXPECT_EQ(t.min_version, 0x0303);
  EXPECT_EQ(t.max_version, 0x0304);
  EXPECT_TRUE(t.alpn.empty());
  EXPECT_TRUE(t.session_reuse);
  EXPECT_FALSE(r.config->pools[1].tls.enabled);
  EXPECT_EQ(r.config->pools[2].tls.ca, "");
  EXPECT_FALSE(r.config->pools[2].tls.verify);
  EXPECT_EQ(r.config->pools[2].tls.server_name, "10.0.0.1");
}

TEST(PoolTlsConfig, EachBadValueAtItsPlace) {
  auto r = load(kHttp + R"(pools:
  - name: web
    tls:
      ca: ""
      verify: maybe
      server_name: "bad name"
      certificate: {cert: client.pem}
      min_version: "1.1"
      alpn: [h2, spdy]
      session_reuse: 3
      sni: x
    servers: [{address: 127.0.0.1:9001}]
)");
  EXPECT_TRUE(hasError(r, 9, 11, "expected a PEM file of CA certificates, or system"));
  EXPECT_TRUE(hasError(r, 10, 15, "verify"));
  EXPECT_TRUE(hasError(r, 11, 20, "\"bad name\" is not a host name"));
  EXPECT_TRUE(hasError(r, 12, 20, "missing required key \"key\""));
  EXPECT_TRUE(hasError(r, 13, 20, "1.1"));
  EXPECT_TRUE(hasError(r, 14, 14, "HTTP/2 to servers is not spoken yet"));
  EXPECT_TRUE(hasError(r, 14, 18, "spdy"));
  EXPECT_TRUE(hasError(r, 15, 22, "session_reuse"));
  EXPECT_TRUE(hasError(r, 16, 7, "sni"));
  EXPECT_EQ(r.errors.size(), 9u) << testing::dump(r);
}

TEST(PoolTlsConfig, MaxBelowMinAndNotAMap) {
  auto r = load(kHttp + R"(pools:
  - name: web
    tls: {min_version: "1.3", max_version: "1.2"}
    servers: [{address: 127.0.0.1:9001}]
  - name: other
    tls: yes
    servers: [{address: 127.0.0.1:9002}]
)");
  EXPECT_TRUE(hasError(r, 8, 44, "below min_version"));
  EXPECT_TRUE(hasError(r, 11, 10, "pools[1].tls"));
  EXPECT_EQ(r.errors.size(), 2u) << testing::dump(r);
}

TEST(PoolTlsConfig, ATcpListenerCannotUseATlsPool) {
  auto r = load(R"(listeners:
  - name: relay
    bind: 127.0.0.1:8443
    pool: web
  - name: front
    bind: 127.0.0.1:8080
    protocol: http
    pool: web
pools:
  - name: web
    tls: {ca: system}
    servers: [{address: 127.0.0.1:9001}]
)");
  EXPECT_TRUE(onlyError(r, 11, 5, "listener relay (tcp) relays bytes untouched and cannot speak TLS to servers"));
}

}  // namespace
}  // namespace fulcrum::config

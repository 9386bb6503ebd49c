// listeners[].tls.client_certificates and routes' client_certificate match: what is read, the
// defaults, and each mistake at its file:line:column.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::hasError;
using testing::load;

const std::string kPools = R"(pools:
  - name: a
    servers: [{address: 127.0.0.1:9001}]
)";

TEST(ClientCertificatesConfig, DefaultsToRequiredWithTheStandardHeaders) {
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8443
    protocol: http
    pool: a
    tls:
      certificates: [{cert: c.pem, key: k.pem}]
      client_certificates: {ca: ca.pem}
    http:
      routes:
        - match: {client_certificate: {subject_regex: "CN=.*,O=Example"}}
          pool: a
)" + kPools);
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const auto& cc = r.config->listeners[0].tls.client_certificates;
  EXPECT_EQ(cc.mode, ClientCertificateMode::Required);
  EXPECT_TRUE(cc.ca.ends_with("ca.pem")) << cc.ca;
  EXPECT_TRUE(cc.crl.empty());
  EXPECT_EQ(cc.subject_header, "X-Client-Subject");
  EXPECT_EQ(cc.sans_header, "X-Client-SANs");
  EXPECT_EQ(cc.fingerprint_header, "X-Client-Fingerprint");
  const auto& m = r.config->listeners[0].http.routes[0].match.client_certificate;
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].kind, ValueMatchKind::Regex);
  EXPECT_EQ(m[0].value, "CN=.*,O=Example");
}

TEST(ClientCertificatesConfig, Mistakes) {
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8443
    protocol: http
    pool: a
    tls:
      certificates: [{cert: c.pem, key: k.pem}]
      client_certificates: {mode: always, headers: {subject: "X Bad"}}
  - name: relay
    bind: 127.0.0.1:8444
    pool: a
    tls:
      certificates: [{cert: c.pem, key: k.pem}]
      client_certificates: {ca: ca.pem, headers: {subject: X-S}}
    http:
      routes:
        - match: {client_certificate: {subject_regex: "("}}
          pool: a
)" + kPools);
  EXPECT_TRUE(hasError(r, 8, 35, "client_certificates.mode"));
  EXPECT_TRUE(hasError(r, 8, 28, "missing required key \"ca\""));
  EXPECT_TRUE(hasError(r, 8, 62, "invalid header name \"X Bad\""));
  EXPECT_TRUE(hasError(r, 14, 41, "headers are for http listeners"));
  EXPECT_TRUE(hasError(r, 17, 55, "invalid regular expression"));
}

}  // namespace
}  // namespace fulcrum::config

// listeners[].tls.session_tickets and certificates[].ocsp: what is read, the defaults, and each
// mistake at its file:line:column.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::hasError;
using testing::load;

std::string withTls(const std::string& tlsExtra, const std::string& certExtra = "") {
  return R"(listeners:
  - name: web
    bind: 127.0.0.1:8443
    protocol: http
    pool: a
    tls:
      certificates:
        - cert: c.pem
          key: k.pem
)" + certExtra + tlsExtra +
         R"(pools:
  - name: a
    servers: [{address: 127.0.0.1:9001}]
)";
}

TEST(ListenerTlsConfig, SessionTicketsDefaultToRandomKeysRotatedEvery12Hours) {
  auto r = load(withTls(""));
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const auto& t = r.config->listeners[0].tls.session_tickets;
  EXPECT_EQ(t.key_file, "");
  EXPECT_EQ(t.rotate, std::chrono::hours(12));
  EXPECT_EQ(t.lifetime, std::chrono::hours(2));
  EXPECT_EQ(r.config->listeners[0].tls.certificates[0].ocsp, "");
}

TEST(ListenerTlsConfig, ReadsAKeyFileOrARotationAndAnOcspFileNextToTheConfig) {
  auto r = load(withTls("      session_tickets: {key_file: tickets.keys, lifetime: 30m}\n", "          ocsp: c.ocsp\n"));
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const auto& tls = r.config->listeners[0].tls;
  EXPECT_EQ(tls.session_tickets.key_file, "tickets.keys");  // (from a string: no directory to resolve against)
  EXPECT_EQ(tls.session_tickets.lifetime, std::chrono::minutes(30));
  EXPECT_NE(tls.session_tickets.where.find("test.yaml:11:24: listeners[0].tls.session_tickets"), std::string::npos)
      << tls.session_tickets.where;
  EXPECT_EQ(tls.certificates[0].ocsp, "c.ocsp");
  auto rotated = load(withTls("      session_tickets: {rotate: 1h}\n"));
  ASSERT_TRUE(rotated.ok()) << testing::dump(rotated);
  EXPECT_EQ(rotated.config->listeners[0].tls.session_tickets.rotate, std::chrono::hours(1));
}

TEST(ListenerTlsConfig, MistakesInSessionTicketsAreErrorsWhereTheyAre) {
  EXPECT_TRUE(hasError(load(withTls("      session_tickets: {key_file: k, rotate: 1h}\n")), 10, 38,
                       "keys from a key_file change when the file does"));
  EXPECT_TRUE(hasError(load(withTls("      session_tickets: {rotate: 100ms}\n")), 10, 33, "rotate"));
  EXPECT_TRUE(hasError(load(withTls("      session_tickets: {lifetime: 200h}\n")), 10, 35, "lifetime"));
  EXPECT_TRUE(hasError(load(withTls("      session_tickets: {keyfile: k}\n")), 10, 25, "keyfile"));
  EXPECT_TRUE(hasError(load(withTls("", "          oscp: c.ocsp\n")), 10, 11, "oscp"));
}

}  // namespace
}  // namespace fulcrum::config

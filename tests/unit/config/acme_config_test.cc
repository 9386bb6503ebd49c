// The acme section and listeners[].tls.acme: what is read, defaults, and an error with
// file:line:column for every bad value.
#include <gtest/gtest.h>

#include "config_test_util.h"

using namespace fulcrum::config;
using namespace fulcrum::config::testing;
using namespace std::chrono_literals;

namespace {

std::string withListener(const std::string& top, const std::string& tls) {
  return top +
         "listeners:\n"
         "  - name: web\n"
         "    bind: 127.0.0.1:8443\n"
         "    protocol: http\n"
         "    pool: p\n"
         "    tls:\n" +
         tls +
         "pools:\n"
         "  - name: p\n"
         "    servers:\n"
         "      - address: 127.0.0.1:9000\n";
}

}  // namespace

TEST(AcmeConfig, ReadsEveryKeyAndCertificatesBecomeOptional) {
  auto r = load(withListener(
      "acme:\n"
      "  directory: https://ca.test/dir\n"
      "  email: ops@example.com\n"
      "  storage: /var/lib/fulcrum/acme\n"
      "  ca: /etc/ca.pem\n"
      "  challenge: http-01\n"
      "  renew_before: 20d\n"
      "  retry_min: 30s\n"
      "  retry_max: 2h\n"
      "  timeout: 5s\n",
      "      acme: [Example.COM, www.example.com]\n"));
  ASSERT_TRUE(r.config) << dump(r);
  const Acme& a = r.config->acme;
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.directory, "https://ca.test/dir");
  EXPECT_EQ(a.email, "ops@example.com");
  EXPECT_EQ(a.storage, "/var/lib/fulcrum/acme");
  EXPECT_EQ(a.ca, "/etc/ca.pem");
  EXPECT_EQ(a.challenge, AcmeChallenge::Http01);
  EXPECT_EQ(a.renew_before, Millis(std::chrono::hours(24 * 20)));
  EXPECT_EQ(a.retry_min, 30s);
  EXPECT_EQ(a.retry_max, 2h);
  EXPECT_EQ(a.timeout, 5s);
  const ListenerTls& tls = r.config->listeners[0].tls;
  EXPECT_EQ(tls.acme, (std::vector<std::string>{"example.com", "www.example.com"}));
  EXPECT_TRUE(tls.certificates.empty());
  EXPECT_TRUE(tls.enabled());
}

TEST(AcmeConfig, DefaultsAreTlsAlpnThirtyDaysAndAMinuteToADay) {
  auto r = load(withListener("acme:\n  directory: https://ca.test/dir\n  storage: acme\n", "      acme: a.test\n"));
  ASSERT_TRUE(r.config) << dump(r);
  const Acme& a = r.config->acme;
  EXPECT_EQ(a.challenge, AcmeChallenge::TlsAlpn01);
  EXPECT_EQ(a.renew_before, Millis(std::chrono::hours(24 * 30)));
  EXPECT_EQ(a.retry_min, 1min);
  EXPECT_EQ(a.retry_max, 24h);
  EXPECT_TRUE(a.ca.empty());
  EXPECT_EQ(a.storage, "acme") << "relative to the config's directory (a string config has none)";
}

TEST(AcmeConfig, EveryBadValueIsNamedWithItsPosition) {
  auto r = load(withListener(
      "acme:\n"                                    // 1
      "  directory: ftp://ca.test/dir\n"           // 2
      "  email: nobody\n"                          // 3
      "  challenge: dns-01\n"                      // 4
      "  renew_before: 30\n"                       // 5
      "  retry_min: 10m\n"                         // 6
      "  retry_max: 1m\n"                          // 7
      "  colour: blue\n",                          // 8
      "      acme: ['*.example.com', 10.0.0.1, a..b, ok.test, ok.test]\n"));  // 15
  EXPECT_TRUE(hasError(r, 2, 14, "acme.directory: \"ftp://ca.test/dir\" is not a URL; expected https://HOST/PATH"));
  EXPECT_TRUE(hasError(r, 3, 10, "acme.email: \"nobody\" is not an email address"));
  EXPECT_TRUE(hasError(r, 4, 14, "acme.challenge"));
  EXPECT_TRUE(hasError(r, 5, 17, "acme.renew_before: a unit is required (ms, s, m, h or d)"));
  EXPECT_TRUE(hasError(r, 7, 14, "acme.retry_max: below retry_min"));
  EXPECT_TRUE(hasError(r, 8, 3, "colour"));
  EXPECT_TRUE(hasError(r, 2, 3, "acme: missing required key \"storage\""));
  EXPECT_TRUE(hasError(r, 15, 14, "a wildcard needs the DNS-01 challenge"));
  EXPECT_TRUE(hasError(r, 15, 31, "\"10.0.0.1\" is not a DNS name"));
  EXPECT_TRUE(hasError(r, 15, 41, "\"a..b\" is not a DNS name"));
  EXPECT_TRUE(hasError(r, 15, 56, "\"ok.test\" is listed twice"));
}

TEST(AcmeConfig, NamesWithoutTheAcmeSectionAndATlsSectionWithNeitherAreErrors) {
  auto r = load(withListener("", "      acme: [a.test]\n"));
  EXPECT_TRUE(onlyError(r, 7, 7, "listeners[0].tls.acme: names need the top-level acme section")) << dump(r);
  auto none = load(withListener("", "      min_version: '1.2'\n"));
  EXPECT_TRUE(onlyError(none, 7, 7, "listeners[0].tls: missing required key \"certificates\" (a list of {cert: FILE, key: FILE} (or acme: [NAME, ...]))"));
}

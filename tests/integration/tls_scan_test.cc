// testssl.sh (Debian's) over a TLS listener configured as the demo's (issue #15, "Tests with
// real clients"): no SSLv3, TLS 1.0 or 1.1, no weak cipher, no client-initiated renegotiation,
// no compression, and nothing it rates medium or worse. About a minute on a shared machine:
// ctest runs it on its own (label `slow`, tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

TEST(TlsScan, TestsslFindsNoOldProtocolWeakCipherRenegotiationOrCompression) {
  TempDir dir;
  testcerts::TestCa ca;
  // The demo's listener: an ECDSA P-256 certificate for localhost, every TLS setting default.
  auto pem = ca.issue({"localhost"}, testcerts::Key::Ecdsa, -3600, 86400L * 30);
  testcerts::writeFile(dir.file("localhost.pem"), pem.cert);
  testcerts::writeFile(dir.file("localhost.key"), pem.key);
  HttpBackend backend = startHttpBackend(dir, "b1");
  uint16_t port = freePort();
  auto fulcrum = startFulcrum(dir,
                              httpConfig(port, httpPool("web", {backend.port}),
                                         "    tls:\n      certificates:\n        - cert: localhost.pem\n"
                                         "          key: localhost.key\n"),
                              port);
  // Protocols (-p), cipher categories (-s), renegotiation (-R), compression (-C): the fastest
  // set that covers the issue's list; loopback only (--ip), no DNS, bounded waits.
  std::string json = dir.file("scan.json");
  auto scan = runCommand({"/usr/bin/timeout", "240", "/usr/bin/testssl", "--quiet", "--color", "0", "--warnings", "off",
                          "--ip", "127.0.0.1", "--connect-timeout", "5", "--openssl-timeout", "5", "-p", "-s", "-R",
                          "-C", "--jsonfile", json, "127.0.0.1:" + std::to_string(port)},
                         270s);
  ASSERT_EQ(scan.code, 0) << scan.output;
  std::map<std::string, std::pair<std::string, std::string>> found;  // id -> (severity, finding)
  for (const auto& f : nlohmann::json::parse(readFile(json))) {
    found[f.value("id", "")] = {f.value("severity", ""), f.value("finding", "")};
  }
  auto finding = [&](const std::string& id) { return found.count(id) ? found[id].second : "(missing)"; };
  for (const char* id : {"SSLv2", "SSLv3", "TLS1", "TLS1_1"}) {
    EXPECT_EQ(finding(id), "not offered") << id << "\n" << scan.output;
  }
  EXPECT_EQ(finding("TLS1_2"), "offered");
  EXPECT_EQ(finding("TLS1_3").rfind("offered", 0), 0u) << finding("TLS1_3");
  for (const char* id : {"cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
                         "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"}) {
    EXPECT_EQ(finding(id), "not offered") << id;
  }
  EXPECT_EQ(finding("cipherlist_STRONG"), "offered") << "AEAD suites only";
  EXPECT_EQ(finding("secure_client_renego"), "not vulnerable") << "client-initiated renegotiation refused";
  EXPECT_EQ(finding("CRIME_TLS"), "not vulnerable") << "no TLS compression";
  for (const auto& [id, f] : found) {
    EXPECT_TRUE(f.first == "OK" || f.first == "INFO") << id << ": " << f.first << ": " << f.second;
  }
  EXPECT_TRUE(fulcrum->running());
}

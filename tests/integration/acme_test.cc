// ACME (issue #15 item 4) end to end: a real Pebble (the Debian package, its own test CA) with
// pebble-challtestsrv as its DNS (every name is 127.0.0.1), a real fulcrum answering HTTP-01 on
// its plain listener and TLS-ALPN-01 on its TLS listener, curl verifying what fulcrum serves
// against Pebble's root.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

unsigned modeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

struct AcmeEnv {
  TempDir dir;
  testcerts::TestCa ca{"Pebble Listener Test CA"};  // Pebble's own HTTPS (the directory)
  HttpBackend backend;
  uint16_t pebble_port = freePort();
  uint16_t management_port = freePort();
  uint16_t dns_port = freePort();
  uint16_t challsrv_port = freePort();
  uint16_t http_port = freePort();  // fulcrum's plain listener: Pebble's httpPort (HTTP-01)
  uint16_t tls_port = freePort();   // fulcrum's TLS listener: Pebble's tlsPort (TLS-ALPN-01)
  std::unique_ptr<Process> dns;
  std::unique_ptr<Process> pebble;
  std::unique_ptr<Process> fulcrum;

  AcmeEnv() {
    testcerts::writeFile(dir.file("ca.pem"), ca.pem());
    auto pem = ca.issue({"localhost"});
    testcerts::writeFile(dir.file("pebble.pem"), pem.cert);
    testcerts::writeFile(dir.file("pebble.key"), pem.key);
    backend = startHttpBackend(dir, "b1");
  }

  std::string directory() const { return "https://localhost:" + std::to_string(pebble_port) + "/dir"; }

  // Pebble and its DNS; false when Pebble's directory does not answer in time.
  bool startPebble() {
    dns = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                                 "-dns01", "127.0.0.1:" + std::to_string(dns_port), "-http01", "", "-https01", "",
                                 "-tlsalpn01", "", "-management", "127.0.0.1:" + std::to_string(challsrv_port)},
        dir.file("challtestsrv.log"));
    writeFile(dir.file("pebble.json"),
              R"({"pebble": {"listenAddress": "127.0.0.1:)" + std::to_string(pebble_port) +
                  R"(", "managementListenAddress": "127.0.0.1:)" + std::to_string(management_port) +
                  R"(", "certificate": ")" + dir.file("pebble.pem") + R"(", "privateKey": ")" +
                  dir.file("pebble.key") + R"(", "httpPort": )" + std::to_string(http_port) +
                  R"(, "tlsPort": )" + std::to_string(tls_port) +
                  R"(, "ocspResponderURL": "", "externalAccountBindingRequired": false}})");
    pebble = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/env", "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0",
                                 "PEBBLE_AUTHZREUSE=0", "/usr/bin/pebble", "-config", dir.file("pebble.json"),
                                 "-dnsserver", "127.0.0.1:" + std::to_string(dns_port)},
        dir.file("pebble.log"));
    bool up = waitFor([&] { return pebble->log().find("Listening on") != std::string::npos || !pebble->running(); },
                      10s) &&
              pebble->running();
    if (!up) {
      return false;
    }
    // The root Pebble issues under: what clients verify fulcrum's ACME certificates with.
    auto root = curl({"--cacert", dir.file("ca.pem"), "-o", dir.file("pebble-root.pem"),
                      "https://localhost:" + std::to_string(management_port) + "/roots/0"});
    return root.code == 0;
  }

  // fulcrum with a plain and a TLS listener; `tls` is the TLS listener's tls section body.
  std::string config(const std::string& challenge, const std::string& tls, const std::string& acmeExtra = "") {
    return "acme:\n  directory: " + directory() + "\n  email: ops@example.com\n  storage: " + dir.file("acme") +
           "\n  ca: " + dir.file("ca.pem") + "\n  challenge: " + challenge + "\n" + acmeExtra +
           "listeners:\n"
           "  - name: plain\n    bind: 127.0.0.1:" + std::to_string(http_port) + "\n    protocol: http\n    pool: web\n"
           "  - name: secure\n    bind: 127.0.0.1:" + std::to_string(tls_port) +
           "\n    protocol: http\n    pool: web\n    tls:\n" + tls +
           "pools:\n" + httpPool("web", {backend.port});
  }

  void start(const std::string& yaml) { fulcrum = startFulcrum(dir, yaml, tls_port); }

  bool waitLog(const std::string& what, size_t times = 1, std::chrono::milliseconds timeout = 20s) {
    return waitFor([&] { return count(fulcrum->log(), what) >= times || !fulcrum->running(); }, timeout) &&
           count(fulcrum->log(), what) >= times;
  }

  // GET / on the TLS listener for `name`, verified against `caFile`: curl's exit code and status.
  RunResult get(const std::string& name, const std::string& caFile) {
    return curl({"--cacert", caFile, "--resolve", name + ":" + std::to_string(tls_port) + ":127.0.0.1", "-o",
                 "/dev/null", "-w", "%{http_code}", "https://" + name + ":" + std::to_string(tls_port) + "/"});
  }

  // The serial of the certificate served for `name` (openssl's hex), empty when none.
  std::string servedSerial(const std::string& name) {
    auto r = shell("timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(tls_port) +
                       " -servername " + name + " </dev/null 2>/dev/null | /usr/bin/openssl x509 -noout -serial",
                   20s);
    return r.output.starts_with("serial=") ? r.output : std::string();
  }
};

}  // namespace

TEST(Acme, Http01ObtainsACertificateThatVerifiesAgainstPebblesRootAndARestartReusesIt) {
  AcmeEnv env;
  ASSERT_TRUE(env.startPebble()) << env.pebble->log();
  env.start(env.config("http-01", "      acme: [a.test, b.test]\n"));
  ASSERT_TRUE(env.waitLog("msg=\"acme certificate installed\"")) << env.fulcrum->log();
  for (const char* name : {"a.test", "b.test"}) {
    auto r = env.get(name, env.dir.file("pebble-root.pem"));
    EXPECT_EQ(r.output, "200") << name << ": " << r.output;
  }
  // One log line per state, in order.
  const std::string log = env.fulcrum->log();
  size_t at = 0;
  for (const char* state : {"directory", "account", "order", "authorizing", "finalizing", "downloading", "done"}) {
    at = log.find(std::string("names=a.test,b.test state=") + state, at);
    ASSERT_NE(at, std::string::npos) << state << "\n" << log;
  }
  // Stored 0600 (directories 0700).
  const std::string store = env.dir.file("acme");
  EXPECT_EQ(modeOf(store + "/account.key"), 0600u);
  EXPECT_EQ(modeOf(store + "/certificates/a.test/cert.pem"), 0600u);
  EXPECT_EQ(modeOf(store + "/certificates/a.test/key.pem"), 0600u);
  EXPECT_EQ(modeOf(store + "/certificates/a.test"), 0700u);
  EXPECT_EQ(modeOf(store), 0700u);
  // A restart serves the stored certificate at once, with no new order at Pebble.
  const size_t orders = count(env.pebble->log(), "POST /order-plz");
  EXPECT_EQ(orders, 1u) << env.pebble->log();
  env.fulcrum->signal(SIGTERM);
  ASSERT_TRUE(env.fulcrum->wait(10s).has_value());
  const size_t ordersLogged = count(env.fulcrum->log(), "state=order");  // the log file goes on
  env.start(env.config("http-01", "      acme: [a.test, b.test]\n"));
  EXPECT_EQ(env.get("a.test", env.dir.file("pebble-root.pem")).output, "200") << env.fulcrum->log();
  EXPECT_NE(env.fulcrum->log().find("msg=\"acme certificate reused\""), std::string::npos) << env.fulcrum->log();
  std::this_thread::sleep_for(500ms);  // what a wrongly due order would have started within
  EXPECT_EQ(count(env.pebble->log(), "POST /order-plz"), orders);
  EXPECT_EQ(count(env.fulcrum->log(), "state=order"), ordersLogged) << env.fulcrum->log();
}

TEST(Acme, TlsAlpn01ObtainsACertificateForAListenerWithNoOtherCertificate) {
  AcmeEnv env;
  ASSERT_TRUE(env.startPebble()) << env.pebble->log();
  env.start(env.config("tls-alpn-01", "      acme: [alpn.test]\n"));
  // Before the certificate exists there is nothing to serve: a handshake fails, fulcrum runs on.
  ASSERT_TRUE(env.waitLog("msg=\"acme certificate installed\"")) << env.fulcrum->log() << env.pebble->log();
  auto r = env.get("alpn.test", env.dir.file("pebble-root.pem"));
  EXPECT_EQ(r.output, "200") << r.output;
  EXPECT_NE(env.pebble->log().find("Issued certificate"), std::string::npos);
  // acme-tls/1 for a name with no pending challenge is refused, never given a real certificate.
  auto probe = shell("timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(env.tls_port) +
                         " -servername alpn.test -alpn acme-tls/1 </dev/null 2>&1",
                     20s);
  EXPECT_EQ(probe.output.find("ALPN protocol: acme-tls/1"), std::string::npos) << probe.output;
  EXPECT_NE(probe.output.find("alert"), std::string::npos) << probe.output;
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(Acme, RenewalReplacesTheCertificateWhileAnOpenConnectionKeepsBeingServed) {
  AcmeEnv env;
  ASSERT_TRUE(env.startPebble()) << env.pebble->log();
  // renew_before longer than Pebble's certificates live: every certificate is due again at
  // once, so a renewal follows each issue after retry_min.
  env.start(env.config("http-01", "      acme: [renew.test]\n", "  renew_before: 3650d\n  retry_min: 1s\n"));
  ASSERT_TRUE(env.waitLog("msg=\"acme certificate installed\"")) << env.fulcrum->log();
  const std::string first = env.servedSerial("renew.test");
  ASSERT_FALSE(first.empty());
  // A keep-alive connection opened on the first certificate, asked again after the renewal.
  const std::string req = "GET / HTTP/1.1\\r\\nHost: renew.test\\r\\n";
  Process held({"/bin/sh", "-c",
                "(printf '" + req + "\\r\\n'; sleep 3; printf '" + req + "Connection: close\\r\\n\\r\\n') | timeout 15 /usr/bin/openssl s_client -quiet "
                "-connect 127.0.0.1:" + std::to_string(env.tls_port) + " -servername renew.test -CAfile " +
                env.dir.file("pebble-root.pem") + " 2>&1"},
               env.dir.file("held.log"));
  ASSERT_TRUE(env.waitLog("msg=\"acme certificate installed\"", 2)) << env.fulcrum->log();
  const std::string second = env.servedSerial("renew.test");
  EXPECT_FALSE(second.empty());
  EXPECT_NE(first, second) << "a renewed certificate is served to new connections";
  EXPECT_EQ(env.get("renew.test", env.dir.file("pebble-root.pem")).output, "200");
  ASSERT_TRUE(held.wait(20s).has_value());
  EXPECT_EQ(count(held.log(), "HTTP/1.1 200"), 2u) << held.log();
  EXPECT_GE(count(env.pebble->log(), "POST /order-plz"), 2u);
}

TEST(Acme, ACaGoneAtRenewalTimeLeavesTheOldCertificateServingAndIsRetried) {
  AcmeEnv env;
  ASSERT_TRUE(env.startPebble()) << env.pebble->log();
  env.start(env.config("tls-alpn-01", "      acme: [keep.test]\n",
                       "  renew_before: 3650d\n  retry_min: 1s\n  retry_max: 1s\n  timeout: 2s\n"));
  ASSERT_TRUE(env.waitLog("msg=\"acme certificate installed\"")) << env.fulcrum->log();
  const std::string serial = env.servedSerial("keep.test");
  ASSERT_FALSE(serial.empty());
  env.pebble->signal(SIGKILL);  // the CA is gone before the renewal falls due
  ASSERT_TRUE(env.pebble->wait(5s).has_value());
  ASSERT_TRUE(env.waitLog("msg=\"acme order failed\"", 2)) << env.fulcrum->log();
  EXPECT_NE(env.fulcrum->log().find("names=keep.test error=\"directory: " + env.directory()), std::string::npos);
  EXPECT_EQ(env.servedSerial("keep.test"), serial) << "the old certificate serves on";
  EXPECT_EQ(env.get("keep.test", env.dir.file("pebble-root.pem")).output, "200");
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(Acme, AnUnreachableDirectoryIsRetriedWithBackoffWhileTheConfiguredCertificateServes) {
  AcmeEnv env;  // no Pebble: its port has nothing listening
  auto pem = env.ca.issue({"site.test"});
  testcerts::writeFile(env.dir.file("site.pem"), pem.cert);
  testcerts::writeFile(env.dir.file("site.key"), pem.key);
  std::string tls = "      certificates:\n        - cert: site.pem\n          key: site.key\n      acme: [new.test]\n";
  const uint16_t admin = freePort();
  env.start(env.config("tls-alpn-01", tls, "  retry_min: 200ms\n  retry_max: 400ms\n  timeout: 2s\n") +
            "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n");
  ASSERT_TRUE(env.waitLog("msg=\"acme order failed\"", 3)) << env.fulcrum->log();
  const std::string log = env.fulcrum->log();
  EXPECT_NE(log.find("names=new.test error=\"directory: " + env.directory()), std::string::npos) << log;
  EXPECT_NE(log.find("failures=1 retry_in_ms=200"), std::string::npos) << log;
  EXPECT_NE(log.find("failures=2 retry_in_ms=400"), std::string::npos) << log;
  EXPECT_NE(log.find("failures=3 retry_in_ms=400"), std::string::npos) << "capped at retry_max: " << log;
  EXPECT_EQ(env.get("site.test", env.dir.file("ca.pem")).output, "200");
  auto metrics = curl({"http://127.0.0.1:" + std::to_string(admin) + "/metrics"});
  EXPECT_NE(metrics.output.find("fulcrum_acme_orders_total{result=\"failure\"} "), std::string::npos) << metrics.output;
  EXPECT_EQ(metrics.output.find("fulcrum_acme_orders_total{result=\"failure\"} 0"), std::string::npos);
  EXPECT_TRUE(env.fulcrum->running());
}

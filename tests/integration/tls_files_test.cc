// Certificates that change without a restart (issue #15 item 3): files replaced by rename are
// served within seconds without SIGHUP, a broken replacement keeps the old one serving and is
// said once; OCSP responses made by `openssl ocsp` with the test CA, stapled for s_client -status.
#include <gtest/gtest.h>

#include <ctime>
#include <thread>

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

struct FilesEnv {
  TempDir dir;
  testcerts::TestCa ca;
  HttpBackend backend;
  uint16_t port = freePort();
  std::unique_ptr<Process> fulcrum;

  FilesEnv() {
    testcerts::writeFile(dir.file("ca.pem"), ca.pem());
    testcerts::writeFile(dir.file("ca.key"), ca.keyPem());
    backend = startHttpBackend(dir, "b1");
  }
  void issue(const std::string& name, const std::vector<std::string>& names) {
    auto pem = ca.issue(names);
    testcerts::writeFile(dir.file(name + ".pem"), pem.cert);
    testcerts::writeFile(dir.file(name + ".key"), pem.key);
  }
  // Writes a new file and renames it over `name` (what editors and certificate managers do).
  void replace(const std::string& name, const std::string& text) {
    writeFile(dir.file(name + ".new"), text);
    ASSERT_EQ(::rename(dir.file(name + ".new").c_str(), dir.file(name).c_str()), 0);
  }
  void start(const std::string& yaml) { fulcrum = startFulcrum(dir, yaml, port); }
  std::string config(const std::string& certExtra = "") {
    return httpConfig(port, httpPool("web", {backend.port}),
                      "    tls:\n      certificates:\n        - cert: site.pem\n          key: site.key\n" + certExtra,
                      "web");
  }
  std::string sClient(const std::string& opts) {
    return shell("timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                     " -servername site.test -CAfile " + dir.file("ca.pem") + " " + opts + " </dev/null 2>&1",
                 20s)
        .output;
  }
  // An OCSP response from the test CA for `cert` (PEM file in dir), with `status` in the
  // responder's index ('V' valid, 'R' revoked), written to `out`.
  void ocsp(const std::string& cert, long serial, const std::string& cn, char status, const std::string& out) {
    char expiry[32];
    std::time_t later = std::time(nullptr) + 86400L * 30;
    std::tm tm{};
    gmtime_r(&later, &tm);
    std::strftime(expiry, sizeof expiry, "%y%m%d%H%M%SZ", &tm);
    char hexSerial[16];
    std::snprintf(hexSerial, sizeof hexSerial, "%02lX", serial);
    std::string revoked;  // a revocation an hour ago
    if (status == 'R') {
      std::time_t now = std::time(nullptr) - 3600;
      gmtime_r(&now, &tm);
      char r[32];
      std::strftime(r, sizeof r, "%y%m%d%H%M%SZ", &tm);
      revoked = r;
    }
    writeFile(dir.file("index.txt"),
              std::string(1, status) + "\t" + expiry + "\t" + revoked + "\t" + hexSerial + "\tunknown\t/CN=" + cn + "\n");
    auto req = runCommand({"/usr/bin/openssl", "ocsp", "-issuer", dir.file("ca.pem"), "-cert", dir.file(cert),
                           "-reqout", dir.file("req.der"), "-no_nonce"});
    ASSERT_EQ(req.code, 0) << req.output;
    auto resp = runCommand({"/usr/bin/openssl", "ocsp", "-index", dir.file("index.txt"), "-rsigner", dir.file("ca.pem"),
                            "-rkey", dir.file("ca.key"), "-CA", dir.file("ca.pem"), "-reqin", dir.file("req.der"),
                            "-respout", dir.file(out), "-ndays", "1"});
    ASSERT_EQ(resp.code, 0) << resp.output;
  }
};

}  // namespace

TEST(TlsFiles, ACertificateReplacedByRenameIsServedWithinSecondsAndABrokenOneKeepsTheOld) {
  FilesEnv env;
  env.issue("site", {"site.test"});
  env.start(env.config());
  ASSERT_NE(env.sClient("").find("subject=CN = site.test"), std::string::npos);
  // A renewal: key then certificate renamed into place, no signal.
  auto next = env.ca.issue({"renewed.test", "site.test"});
  env.replace("site.key", next.key);
  env.replace("site.pem", next.cert);
  EXPECT_TRUE(waitFor([&] { return env.sClient("").find("subject=CN = renewed.test") != std::string::npos; }, 6s))
      << env.fulcrum->log();
  EXPECT_NE(env.fulcrum->log().find("certificates read again: the files changed"), std::string::npos);
  EXPECT_EQ(count(env.fulcrum->log(), "config applied"), 1u) << "no reload: " << env.fulcrum->log();
  // A broken replacement: said once with the file and why; the renewed one keeps serving.
  env.replace("site.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n");
  ASSERT_TRUE(waitFor([&] { return env.fulcrum->log().find("certificate change rejected") != std::string::npos; }, 6s))
      << env.fulcrum->log();
  EXPECT_NE(env.fulcrum->log().find(env.dir.file("site.pem") + ": no PEM certificate in it"), std::string::npos)
      << env.fulcrum->log();
  std::this_thread::sleep_for(1500ms);  // another poll or two: not said again
  EXPECT_EQ(count(env.fulcrum->log(), "certificate change rejected"), 1u) << env.fulcrum->log();
  EXPECT_NE(env.sClient("").find("subject=CN = renewed.test"), std::string::npos);
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(TlsFiles, AnOcspResponseIsStapledWhenAskedForAndMustBeGoodAndForThatCertificate) {
  FilesEnv env;
  env.issue("site", {"site.test"});     // serial 2
  env.issue("other", {"other.test"});  // serial 3
  env.ocsp("site.pem", 2, "site.test", 'V', "site.ocsp");
  env.ocsp("other.pem", 3, "other.test", 'V', "other.ocsp");
  env.ocsp("site.pem", 2, "site.test", 'R', "revoked.ocsp");
  // A response for another certificate, or a revoked status: config errors naming the entry.
  writeFile(env.dir.file("other.yaml"), env.config("          ocsp: other.ocsp\n"));
  auto other = runCommand({FULCRUM_BIN, "check", env.dir.file("other.yaml")});
  EXPECT_EQ(other.code, 1) << other.output;
  EXPECT_NE(other.output.find("other.yaml:8:11: listeners[0].tls.certificates[0].ocsp: " + env.dir.file("other.ocsp") +
                              ": the response is for another certificate"),
            std::string::npos)
      << other.output;
  writeFile(env.dir.file("revoked.yaml"), env.config("          ocsp: revoked.ocsp\n"));
  auto revoked = runCommand({FULCRUM_BIN, "check", env.dir.file("revoked.yaml")});
  EXPECT_NE(revoked.output.find("revoked.ocsp: the certificate's status is revoked, not good"), std::string::npos)
      << revoked.output;
  writeFile(env.dir.file("junk.ocsp"), "junk");
  writeFile(env.dir.file("junk.yaml"), env.config("          ocsp: junk.ocsp\n"));
  auto junk = runCommand({FULCRUM_BIN, "check", env.dir.file("junk.yaml")});
  EXPECT_NE(junk.output.find("junk.ocsp: not a DER OCSP response"), std::string::npos) << junk.output;

  env.start(env.config("          ocsp: site.ocsp\n"));
  auto stapled = env.sClient("-status");
  EXPECT_NE(stapled.find("OCSP Response Status: successful"), std::string::npos) << stapled;
  EXPECT_NE(stapled.find("Cert Status: good"), std::string::npos) << stapled;
  auto notAsked = env.sClient("");
  EXPECT_EQ(notAsked.find("OCSP Response Status"), std::string::npos) << "only when the client asks";
  // The file replaced by a revoked status: rejected, said once; the good one is still stapled.
  env.replace("site.ocsp", readFile(env.dir.file("revoked.ocsp")));
  ASSERT_TRUE(waitFor([&] { return env.fulcrum->log().find("certificate change rejected") != std::string::npos; }, 6s))
      << env.fulcrum->log();
  EXPECT_NE(env.fulcrum->log().find("site.ocsp: the certificate's status is revoked"), std::string::npos);
  EXPECT_NE(env.sClient("-status").find("Cert Status: good"), std::string::npos);
}

TEST(TlsFiles, AnOcspResponseThatExpiresWhileServingIsNoLongerStapledAndThatIsSaidOnce) {
  FilesEnv env;
  auto pem = env.ca.issue({"site.test"});
  testcerts::writeFile(env.dir.file("site.pem"), pem.cert);
  testcerts::writeFile(env.dir.file("site.key"), pem.key);
  // Current for 4 more seconds (made with OpenSSL: the ocsp CLI counts in minutes).
  writeFile(env.dir.file("site.ocsp"), testcerts::ocspResponse(env.ca, pem.cert, V_OCSP_CERTSTATUS_GOOD, -60, 4));
  env.start(env.config("          ocsp: site.ocsp\n"));
  auto before = env.sClient("-status");
  EXPECT_NE(before.find("Cert Status: good"), std::string::npos) << before;
  ASSERT_TRUE(waitFor([&] { return env.fulcrum->log().find("OCSP response expired") != std::string::npos; }, 8s))
      << env.fulcrum->log();
  EXPECT_NE(env.fulcrum->log().find("file=" + env.dir.file("site.ocsp")), std::string::npos) << env.fulcrum->log();
  auto after = env.sClient("-status");
  EXPECT_NE(after.find("OCSP response: no response sent"), std::string::npos) << after;
  EXPECT_NE(after.find("Verify return code: 0 (ok)"), std::string::npos) << "the handshake itself is fine: " << after;
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(count(env.fulcrum->log(), "OCSP response expired"), 1u) << env.fulcrum->log();
}

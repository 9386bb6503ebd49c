// The admin API over TLS (issue #15 item 9): curl --cacert with the token, fulcrum ctl over
// HTTPS (pinned from the config, or --cacert), and the config error for an admin reachable
// from other hosts without TLS.
#include <gtest/gtest.h>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

const std::string kToken = "s3cret-token-0123456789";

struct AdminTlsEnv {
  TempDir dir;
  testcerts::TestCa ca;
  testcerts::TestCa other{"Other CA"};
  HttpBackend web;
  uint16_t port = freePort();
  uint16_t admin = freePort();
  std::unique_ptr<Process> fulcrum;

  AdminTlsEnv() {
    testcerts::writeFile(dir.file("ca.pem"), ca.pem());
    testcerts::writeFile(dir.file("other-ca.pem"), other.pem());
    auto pem = ca.issue({"admin.test"});
    testcerts::writeFile(dir.file("admin.pem"), pem.cert);
    testcerts::writeFile(dir.file("admin.key"), pem.key);
    web = startHttpBackend(dir, "web");
  }
  std::string config(const std::string& bind) {
    return httpConfig(port, httpPool("web", {web.port}), "") + "admin:\n  bind: " + bind + "\n  token: " + kToken +
           "\n  tls:\n    certificates:\n      - {cert: admin.pem, key: admin.key}\n";
  }
  RunResult curlAdmin(const std::string& path, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--cacert", dir.file("ca.pem"), "--resolve",
                                  "admin.test:" + std::to_string(admin) + ":127.0.0.1", "-w", " %{http_code}"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://admin.test:" + std::to_string(admin) + path);
    return curl(args);
  }
  RunResult ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{FULCRUM_BIN, "ctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, 30s);
  }
};

}  // namespace

TEST(AdminTls, CurlWithTheCaAndTheTokenGetsTheApiOverHttpsAndPlainHttpGetsNothing) {
  AdminTlsEnv env;
  env.fulcrum = startFulcrum(env.dir, env.config("127.0.0.1:" + std::to_string(env.admin)), env.port);
  auto ok = env.curlAdmin("/api/v1/status", {"-H", "Authorization: Bearer " + kToken});
  EXPECT_EQ(ok.code, 0) << ok.output << env.fulcrum->log();
  EXPECT_TRUE(ok.output.ends_with(" 200")) << ok.output;
  EXPECT_TRUE(env.curlAdmin("/api/v1/status", {}).output.ends_with(" 401"));
  EXPECT_TRUE(env.curlAdmin("/livez", {}).output.ends_with(" 200"));
  auto plain = curl({"-o", "/dev/null", "-w", "%{http_code}", url(env.admin, "/livez")});
  EXPECT_NE(plain.output, "200") << "plain HTTP on the TLS admin port is no request";
  auto wrongCa = curl({"--cacert", env.dir.file("other-ca.pem"), "--resolve",
                       "admin.test:" + std::to_string(env.admin) + ":127.0.0.1",
                       "https://admin.test:" + std::to_string(env.admin) + "/livez"});
  EXPECT_NE(wrongCa.code, 0) << wrongCa.output;
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(AdminTls, FulcrumCtlTalksHttpsFromTheConfigOrWithCacertAndSaysWhyWhenItCannot) {
  AdminTlsEnv env;
  env.fulcrum = startFulcrum(env.dir, env.config("127.0.0.1:" + std::to_string(env.admin)), env.port);
  // From the config: its address, its token, and its own certificate trusted as it is.
  auto viaConfig = env.ctl({"-c", env.dir.file("fulcrum.yaml"), "status"});
  EXPECT_EQ(viaConfig.code, 0) << viaConfig.output << env.fulcrum->log();
  EXPECT_NE(viaConfig.output.find("127.0.0.1:" + std::to_string(env.web.port)), std::string::npos) << viaConfig.output;
  auto listeners = env.ctl({"-c", env.dir.file("fulcrum.yaml"), "listeners"});
  EXPECT_EQ(listeners.code, 0) << listeners.output;
  EXPECT_NE(listeners.output.find("front"), std::string::npos) << listeners.output;
  // An https:// address with --cacert: the chain and the name are checked.
  std::string https = "https://127.0.0.1:" + std::to_string(env.admin);
  auto cacert = env.ctl({"--admin", https, "--cacert", env.dir.file("ca.pem"), "--servername", "admin.test", "--token",
                         kToken, "status"});
  EXPECT_EQ(cacert.code, 0) << cacert.output;
  auto wrongName = env.ctl({"--admin", https, "--cacert", env.dir.file("ca.pem"), "--token", kToken, "status"});
  EXPECT_EQ(wrongName.code, 1);
  EXPECT_NE(wrongName.output.find("server certificate refused: IP address mismatch (expected 127.0.0.1)"), std::string::npos)
      << wrongName.output;
  auto wrongCa = env.ctl({"--admin", https, "--cacert", env.dir.file("other-ca.pem"), "--servername", "admin.test",
                          "--token", kToken, "status"});
  EXPECT_EQ(wrongCa.code, 1);
  EXPECT_NE(wrongCa.output.find("server certificate refused: unable to get local issuer certificate"),
            std::string::npos)
      << wrongCa.output;
  auto plain = env.ctl({"--admin", "127.0.0.1:" + std::to_string(env.admin), "--token", kToken, "status"});
  EXPECT_EQ(plain.code, 1);
  EXPECT_NE(plain.output.find("fulcrum ctl: cannot read from the admin API at 127.0.0.1:"), std::string::npos)
      << plain.output;
}

TEST(AdminTls, AnAdminBoundBeyondLoopbackWithoutTlsIsAConfigErrorWithFileLineColumn) {
  AdminTlsEnv env;
  std::string yaml = httpConfig(env.port, httpPool("web", {env.web.port}), "") + "admin:\n  bind: 0.0.0.0:" +
                     std::to_string(env.admin) + "\n  token: " + kToken + "\n";
  writeFile(env.dir.file("open.yaml"), yaml);
  auto r = runCommand({FULCRUM_BIN, "check", env.dir.file("open.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("open.yaml:11:9: error: admin.bind: the admin API on 0.0.0.0:" + std::to_string(env.admin) +
                          " is reachable from other hosts: set admin.tls"),
            std::string::npos)
      << r.output;
  // With tls it is valid; a certificate that cannot serve fails `check` (and a start) with its place.
  writeFile(env.dir.file("tls.yaml"), env.config("0.0.0.0:" + std::to_string(env.admin)));
  EXPECT_EQ(runCommand({FULCRUM_BIN, "check", env.dir.file("tls.yaml")}).code, 0);
  ::unlink(env.dir.file("admin.key").c_str());
  auto bad = runCommand({FULCRUM_BIN, "check", env.dir.file("tls.yaml")});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.output.find("tls.yaml:15:9: admin.tls.certificates[0]"), std::string::npos) << bad.output;
}

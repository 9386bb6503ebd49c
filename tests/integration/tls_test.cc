// TLS termination on http listeners (issue #15), with real clients: curl and openssl s_client
// against a real fulcrum, certificates made by a test CA at test time.
#include <gtest/gtest.h>
#include <signal.h>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

struct TlsEnv {
  TempDir dir;
  testcerts::TestCa ca;
  HttpBackend backend;
  uint16_t port = freePort();
  std::unique_ptr<Process> fulcrum;

  TlsEnv() {
    testcerts::writeFile(dir.file("ca.pem"), ca.pem());
    backend = startHttpBackend(dir, "b1");
  }
  // Writes NAME.pem (chain) and NAME.key for `names`.
  void issue(const std::string& name, const std::vector<std::string>& names, testcerts::Key kind = testcerts::Key::Ecdsa,
             long notBefore = -3600, long notAfter = 86400L * 30) {
    auto pem = ca.issue(names, kind, notBefore, notAfter);
    testcerts::writeFile(dir.file(name + ".pem"), pem.cert);
    testcerts::writeFile(dir.file(name + ".key"), pem.key);
  }
  // An http listener with TLS: the certificates (relative file names: next to the config).
  std::string config(const std::vector<std::string>& certs, const std::string& tlsExtra = "",
                     const std::string& top = "") {
    std::string l = "    tls:\n      certificates:\n";
    for (const auto& c : certs) {
      l += "        - cert: " + c + ".pem\n          key: " + c + ".key\n";
    }
    l += tlsExtra;
    return httpConfig(port, httpPool("web", {backend.port}), l, "web", top);
  }
  void start(const std::string& yaml) { fulcrum = startFulcrum(dir, yaml, port); }
  RunResult get(const std::string& host, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--cacert", dir.file("ca.pem"), "--resolve",
                                  host + ":" + std::to_string(port) + ":127.0.0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://" + host + ":" + std::to_string(port) + "/headers");
    return curl(args);
  }
  // openssl s_client with these options; stdin closed at once (-ign_eof off: it ends).
  RunResult sClient(const std::vector<std::string>& opts) {
    std::vector<std::string> argv{"/usr/bin/openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                                  "-CAfile", dir.file("ca.pem")};
    argv.insert(argv.end(), opts.begin(), opts.end());
    std::string cmd;
    for (const auto& a : argv) {
      cmd += "'" + a + "' ";
    }
    return shell("timeout 10 " + cmd + "</dev/null 2>&1", 20s);
  }
};

}  // namespace

TEST(Tls, CurlGetsItsAnswerOverTls13And12AndTheServerIsToldHttps) {
  TlsEnv env;
  env.issue("site", {"site.test"});
  env.start(env.config({"site"}));
  auto r = env.get("site.test", {"-i", "--tlsv1.3"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("HTTP/1.1 200"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"X-Forwarded-Proto\", \"https\""), std::string::npos) << r.output;
  auto r12 = env.get("site.test", {"--tlsv1.2", "--tls-max", "1.2", "-w", "%{http_code}", "-o", "/dev/null"});
  EXPECT_EQ(r12.output, "200") << "TLS 1.2 too";
  auto plain = curl({"-o", "/dev/null", "-w", "%{http_code}", url(env.port, "/")});
  EXPECT_NE(plain.output, "200") << "plain HTTP on a TLS listener is no request";
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(Tls, SniPicksTheCertificateExactWildcardOrDefaultAndAlpnSaysHttp11) {
  TlsEnv env;
  env.issue("default", {"default.test"});
  env.issue("exact", {"exact.test"});
  env.issue("wild", {"*.wild.test"}, testcerts::Key::Rsa);
  env.start(env.config({"default", "exact", "wild"}));
  auto a = env.sClient({"-servername", "exact.test", "-alpn", "h2,http/1.1", "-verify_return_error"});
  EXPECT_NE(a.output.find("subject=CN = exact.test"), std::string::npos) << a.output;
  EXPECT_NE(a.output.find("ALPN protocol: http/1.1"), std::string::npos) << a.output;
  EXPECT_NE(a.output.find("Verify return code: 0 (ok)"), std::string::npos) << a.output;
  auto w = env.sClient({"-servername", "api.wild.test"});
  EXPECT_NE(w.output.find("subject=CN = *.wild.test"), std::string::npos) << w.output;
  auto d = env.sClient({"-servername", "other.test"});
  EXPECT_NE(d.output.find("subject=CN = default.test"), std::string::npos) << d.output;
  // curl checks the name it asked for against the certificate it got.
  EXPECT_EQ(env.get("x.wild.test", {"-o", "/dev/null", "-w", "%{http_code}"}).output, "200");
}

TEST(Tls, UnknownNamesAreRefusedWhenConfiguredAndOldVersionsAlways) {
  TlsEnv env;
  env.issue("site", {"site.test"});
  env.start(env.config({"site"}, "      unknown_sni: refuse\n"));
  auto unknown = env.sClient({"-servername", "other.test"});
  EXPECT_NE(unknown.output.find("unrecognized name"), std::string::npos) << unknown.output;
  auto old = env.sClient({"-servername", "site.test", "-tls1_1"});
  EXPECT_EQ(old.output.find("Cipher is ECDHE"), std::string::npos) << old.output;
  EXPECT_NE(old.output.find("alert"), std::string::npos) << "TLS 1.1 refused: " << old.output;
  // s_client renegotiates when it reads "R" on its input: refused.
  auto reneg = shell("(echo R; sleep 1) | timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" +
                     std::to_string(env.port) + " -tls1_2 -servername site.test -CAfile " + env.dir.file("ca.pem") +
                     " 2>&1");
  EXPECT_NE(reneg.output.find("RENEGOTIATING"), std::string::npos) << reneg.output;
  EXPECT_NE(reneg.output.find("no renegotiation"), std::string::npos) << reneg.output;
  EXPECT_EQ(env.get("site.test", {"-o", "/dev/null", "-w", "%{http_code}"}).output, "200");
}

TEST(Tls, GarbageSilenceAndAOneByteAtATimeClientHelloAreHandled) {
  TlsEnv env;
  env.issue("site", {"site.test"});
  env.start(env.config({"site"}, "", "timeouts:\n  handshake: 2s\n"));
  // Garbage instead of a ClientHello: the connection is closed, nothing else happens.
  int g = connectTcp(env.port);
  ASSERT_GE(g, 0);
  sendStr(g, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(closedWithin(g, 3s));
  ::close(g);
  // A client that says nothing is cut off at timeouts.handshake.
  int s = connectTcp(env.port);
  ASSERT_GE(s, 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(closedWithin(s, 6s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1900ms);
  ::close(s);
  // A ClientHello in 1-byte writes still makes a handshake, and a request.
  auto split = shell("python3 " SOURCE_DIR "/tests/integration/clients/tls_split_hello.py 127.0.0.1 " +
                     std::to_string(env.port) + " site.test " + env.dir.file("ca.pem"));
  EXPECT_EQ(split.code, 0) << split.output;
  EXPECT_NE(split.output.find("HTTP/1.1 200"), std::string::npos) << split.output;
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(Tls, ACertificateThatCannotServeIsAConfigErrorWithFileLineColumn) {
  TlsEnv env;
  env.issue("a", {"a.test"});
  env.issue("b", {"b.test"});
  std::string yaml = env.config({"a"});
  // a's certificate with b's key.
  yaml.replace(yaml.find("key: a.key"), 10, "key: b.key");
  writeFile(env.dir.file("bad.yaml"), yaml);
  auto bad = runCommand({FULCRUM_BIN, "check", env.dir.file("bad.yaml")});
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("bad.yaml:8:11: listeners[0].tls.certificates[0]"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("b.key: the key does not match the certificate in"), std::string::npos) << bad.output;
  env.issue("old", {"old.test"}, testcerts::Key::Ecdsa, -86400 * 10, -60);
  writeFile(env.dir.file("old.yaml"), env.config({"old"}));
  auto old = runCommand({FULCRUM_BIN, "check", env.dir.file("old.yaml")});
  EXPECT_EQ(old.code, 1);
  EXPECT_NE(old.output.find("the certificate expired on"), std::string::npos) << old.output;
  writeFile(env.dir.file("none.yaml"), env.config({"missing"}));
  auto none = runCommand({FULCRUM_BIN, "check", env.dir.file("none.yaml")});
  EXPECT_NE(none.output.find("missing.pem: cannot read the certificate file"), std::string::npos) << none.output;
  writeFile(env.dir.file("udp.yaml"), "listeners:\n  - name: u\n    bind: 127.0.0.1:1\n    protocol: udp\n    pool: p\n"
                                      "    tls:\n      certificates: []\npools:\n  - name: p\n    servers:\n"
                                      "      - address: 127.0.0.1:2\n");
  auto udp = runCommand({FULCRUM_BIN, "check", env.dir.file("udp.yaml")});
  EXPECT_NE(udp.output.find("udp.yaml:6:5: error: listeners[0].tls: TLS is for tcp and http listeners"), std::string::npos)
      << udp.output;
  auto good = runCommand({FULCRUM_BIN, "check", [&] {
                            writeFile(env.dir.file("good.yaml"), env.config({"a"}));
                            return env.dir.file("good.yaml");
                          }()});
  EXPECT_EQ(good.code, 0) << good.output;
}

TEST(Tls, AReloadWithABadCertificateKeepsTheOldOneServingAndAGoodOneIsTakenAtOnce) {
  TlsEnv env;
  env.issue("site", {"site.test"});
  env.start(env.config({"site"}));
  ASSERT_EQ(env.get("site.test", {"-o", "/dev/null", "-w", "%{http_code}"}).output, "200");
  // A new certificate for a new name; its key replaced by garbage first.
  env.issue("site", {"site.test", "new.test"});
  std::string goodKey = readFile(env.dir.file("site.key"));
  writeFile(env.dir.file("site.key"), "garbage\n");
  env.fulcrum->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return env.fulcrum->log().find("reload rejected") != std::string::npos; }, 5s));
  EXPECT_NE(env.fulcrum->log().find("site.key: no PEM private key"), std::string::npos) << env.fulcrum->log();
  EXPECT_EQ(env.get("site.test", {"-o", "/dev/null", "-w", "%{http_code}"}).output, "200") << "the old one serves";
  writeFile(env.dir.file("site.key"), goodKey);
  env.fulcrum->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return env.get("new.test", {"-o", "/dev/null", "-w", "%{http_code}"}).output == "200"; }, 5s))
      << env.fulcrum->log();
}

TEST(Tls, SessionsResumeAcrossWorkersAndTheMetricsCountHandshakesAndShowExpiry) {
  TlsEnv env;
  uint16_t admin = freePort();
  env.issue("site", {"site.test"});
  env.start(env.config({"site"}) + "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n");
  // TLS 1.2 (session id or ticket) and TLS 1.3 (ticket, read before the client leaves): the
  // second connection resumes, whichever of the two workers accepts it.
  std::string sess = env.dir.file("sess");
  for (const char* v : {"-tls1_2", "-tls1_3"}) {
    auto first = shell("(sleep 0.3) | timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" +
                       std::to_string(env.port) + " " + v + " -servername site.test -CAfile " + env.dir.file("ca.pem") +
                       " -sess_out " + sess + " 2>&1");
    EXPECT_NE(first.output.find("New, TLSv1."), std::string::npos) << first.output;
    for (int i = 0; i < 4; ++i) {
      auto again = shell("(sleep 0.1) | timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" +
                         std::to_string(env.port) + " " + v + " -servername site.test -CAfile " +
                         env.dir.file("ca.pem") + " -sess_in " + sess + " 2>&1");
      EXPECT_NE(again.output.find("Reused, TLSv1."), std::string::npos) << v << " try " << i << ": " << again.output;
    }
  }
  std::string m;
  auto value = [&](const std::string& key) {
    size_t at = m.find(key);
    return at == std::string::npos ? -1.0 : std::stod(m.substr(at + key.size() + 1));
  };
  const std::string failed = "fulcrum_listener_tls_handshakes_total{listener=\"front\",version=\"none\",result=\"failed\"}";
  m = curl({url(admin, "/metrics")}).output;
  double failedBefore = value(failed);
  int g = connectTcp(env.port);
  sendStr(g, "not a client hello\r\n\r\n");
  EXPECT_TRUE(closedWithin(g, 3s));
  ::close(g);
  EXPECT_TRUE(waitFor(
      [&] {
        m = curl({url(admin, "/metrics")}).output;
        return value(failed) == failedBefore + 1;
      },
      3s))
      << "garbage counts as a failed handshake: " << m;
  EXPECT_EQ(value("fulcrum_listener_tls_handshakes_total{listener=\"front\",version=\"TLSv1.2\",result=\"full\"}"), 1);
  EXPECT_EQ(value("fulcrum_listener_tls_handshakes_total{listener=\"front\",version=\"TLSv1.2\",result=\"resumed\"}"), 4);
  EXPECT_EQ(value("fulcrum_listener_tls_handshakes_total{listener=\"front\",version=\"TLSv1.3\",result=\"full\"}"), 1);
  EXPECT_EQ(value("fulcrum_listener_tls_handshakes_total{listener=\"front\",version=\"TLSv1.3\",result=\"resumed\"}"), 4);
  size_t at = m.find("fulcrum_tls_certificate_expiry_seconds{listener=\"front\",file=\"" + env.dir.file("site.pem") +
                     "\",names=\"site.test\"} ");
  ASSERT_NE(at, std::string::npos) << m;
  double left = std::stod(m.substr(m.find("} ", at) + 2));
  EXPECT_GT(left, 29.9 * 86400);
  EXPECT_LT(left, 30.1 * 86400);
  auto lint = shell("/usr/bin/promtool check metrics <<'EOF'\n" + m + "EOF\n");
  EXPECT_EQ(lint.code, 0) << lint.output;
}

TEST(Tls, AWebSocketOverTlsRelaysBothWaysAndBigBodiesArriveWhole) {
  TlsEnv env;
  env.issue("site", {"site.test"});
  env.start(env.config({"site"}));
  // After the 101 the tunnel reads TLS records: a read shorter than asked does not mean the
  // socket is empty there, so nothing may wait for an edge that will not come.
  auto ws = runCommand({"/usr/bin/python3", SOURCE_DIR "/tests/integration/clients/ws_echo.py",
                        "wss://127.0.0.1:" + std::to_string(env.port) + "/ws", env.dir.file("ca.pem")},
                       60s);
  EXPECT_EQ(ws.code, 0) << ws.output << env.fulcrum->log();
  EXPECT_NE(ws.output.find("ok"), std::string::npos) << ws.output;
  // 8 MiB each way through TLS records, byte-exact (the backend's /source stream and /sink).
  auto src = curl({"--cacert", env.dir.file("ca.pem"), "--resolve",
                   "site.test:" + std::to_string(env.port) + ":127.0.0.1", "-o", env.dir.file("src.bin"), "-w",
                   "%{http_code}", "https://site.test:" + std::to_string(env.port) + "/source/8388608"});
  EXPECT_EQ(src.output, "200") << src.output;
  EXPECT_EQ(readFile(env.dir.file("src.bin")), httpBlock(0, 8 << 20));
  writeFile(env.dir.file("up.bin"), httpBlock(0, 8 << 20));
  auto up = curl({"--cacert", env.dir.file("ca.pem"), "--resolve", "site.test:" + std::to_string(env.port) + ":127.0.0.1",
                  "--data-binary", "@" + env.dir.file("up.bin"), "-H", "Content-Type: application/octet-stream",
                  "https://site.test:" + std::to_string(env.port) + "/sink"});
  EXPECT_NE(up.output.find("8388608"), std::string::npos) << up.output;
}

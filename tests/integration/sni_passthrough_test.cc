// SNI passthrough on tcp listeners (issue #15 item 7), with real clients: openssl s_server
// backends with their own certificates, curl and openssl s_client in front. Fulcrum never holds
// a key: the certificate a client sees (and verifies) proves which backend answered.
#include <gtest/gtest.h>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

// An `openssl s_server -www` on a free port with a certificate for `names`.
struct TlsBackend {
  uint16_t port = 0;
  std::unique_ptr<Process> proc;
};

struct SniEnv {
  TempDir dir;
  testcerts::TestCa ca;
  uint16_t port = freePort();
  uint16_t admin = freePort();
  std::map<std::string, TlsBackend> backends;
  std::unique_ptr<Process> fulcrum;

  SniEnv() { testcerts::writeFile(dir.file("ca.pem"), ca.pem()); }

  void backend(const std::string& pool, const std::vector<std::string>& names) {
    auto pem = ca.issue(names, testcerts::Key::Ecdsa, -3600, 86400L * 30);
    testcerts::writeFile(dir.file(pool + ".pem"), pem.cert);
    testcerts::writeFile(dir.file(pool + ".key"), pem.key);
    TlsBackend b;
    b.port = freePort();
    b.proc = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/openssl", "s_server", "-quiet", "-www", "-accept",
                                 "127.0.0.1:" + std::to_string(b.port), "-cert", dir.file(pool + ".pem"), "-key",
                                 dir.file(pool + ".key")},
        dir.file("s_server-" + pool + ".log"));
    EXPECT_TRUE(waitFor([&] { return shell("ss -Hltn 'sport = :" + std::to_string(b.port) + "'").output.size() > 0; },
                        5s))
        << pool;
    backends[pool] = std::move(b);
  }

  // A tcp listener with `listenerExtra` (sni_routes, pool...) and one pool per backend.
  void start(const std::string& listenerExtra, const std::string& top = "") {
    std::string y = top + "listeners:\n  - name: pass\n    bind: 127.0.0.1:" + std::to_string(port) + "\n" +
                    listenerExtra + "pools:\n";
    for (const auto& [pool, b] : backends) {
      y += "  - name: " + pool + "\n    servers:\n      - address: 127.0.0.1:" + std::to_string(b.port) + "\n";
    }
    y += "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n";
    fulcrum = startFulcrum(dir, y, port);
    ASSERT_TRUE(fulcrum->running()) << fulcrum->log();
  }

  // openssl s_client through fulcrum with these options; stdin closed at once.
  std::string sClient(const std::vector<std::string>& opts) {
    std::string cmd = "timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                      " -CAfile " + dir.file("ca.pem");
    for (const auto& o : opts) {
      cmd += " '" + o + "'";
    }
    return shell(cmd + " </dev/null 2>&1", 20s).output;
  }

  // curl verifying the backend's certificate for `host` against the test CA.
  RunResult get(const std::string& host, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--cacert", dir.file("ca.pem"), "--resolve",
                                  host + ":" + std::to_string(port) + ":127.0.0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://" + host + ":" + std::to_string(port) + "/");
    return curl(args);
  }

  uint64_t refused() {
    auto m = curl({"http://127.0.0.1:" + std::to_string(admin) + "/metrics"}).output;
    std::string key = "fulcrum_listener_sni_refused_total{listener=\"pass\"} ";
    size_t at = m.find(key);
    return at == std::string::npos ? ~0ull : std::stoull(m.substr(at + key.size()));
  }
};

const char* kRoutes =
    "    sni_routes:\n"
    "      - {names: [a.test], pool: a}\n"
    "      - {names: [\"*.wild.test\", b.test], pool: b}\n";

}  // namespace

TEST(SniPassthrough, ExactWildcardDefaultAndNoSniReachTheirBackendsEndToEnd) {
  SniEnv env;
  env.backend("a", {"a.test"});
  env.backend("b", {"*.wild.test", "b.test"});
  env.backend("fallback", {"fallback.test"});
  env.start(std::string("    pool: fallback\n") + kRoutes);
  // curl verifies the backend's certificate for the name it asked: the TLS session is the
  // backend's, end to end.
  auto a = env.get("a.test", {"-o", "/dev/null", "-w", "%{http_code}"});
  EXPECT_EQ(a.output, "200") << a.output;
  auto w = env.get("x.wild.test", {"-o", "/dev/null", "-w", "%{http_code}"});
  EXPECT_EQ(w.output, "200") << w.output;
  EXPECT_NE(env.sClient({"-servername", "a.test"}).find("subject=CN = a.test"), std::string::npos);
  EXPECT_NE(env.sClient({"-servername", "B.TEST"}).find("subject=CN = *.wild.test"), std::string::npos);
  EXPECT_NE(env.sClient({"-servername", "deep.x.wild.test"}).find("subject=CN = fallback.test"), std::string::npos)
      << "a wildcard covers one label";
  EXPECT_NE(env.sClient({"-servername", "other.test"}).find("subject=CN = fallback.test"), std::string::npos);
  auto none = env.sClient({"-noservername"});
  EXPECT_NE(none.find("subject=CN = fallback.test"), std::string::npos) << none;
  EXPECT_EQ(env.refused(), 0u);
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(SniPassthrough, UnknownNameGarbageAndSilenceAreClosedWithoutADefault) {
  SniEnv env;
  env.backend("a", {"a.test"});
  env.backend("b", {"b.test"});
  env.start(kRoutes, "timeouts:\n  handshake: 1s\n");
  auto unknown = env.sClient({"-servername", "other.test"});
  EXPECT_EQ(unknown.find("subject="), std::string::npos) << unknown;
  EXPECT_EQ(env.sClient({"-noservername"}).find("subject="), std::string::npos) << "no SNI, no default";
  // Garbage instead of a ClientHello: closed at once.
  int g = connectTcp(env.port);
  ASSERT_GE(g, 0);
  sendStr(g, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  EXPECT_TRUE(closedWithin(g, 3s));
  ::close(g);
  // Half a ClientHello, then silence: cut at timeouts.handshake.
  int s = connectTcp(env.port);
  ASSERT_GE(s, 0);
  sendStr(s, std::string("\x16\x03\x01\x02\x00\x01", 6));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(closedWithin(s, 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);
  ::close(s);
  EXPECT_EQ(env.refused(), 3u) << "unknown name, no name, garbage";
  EXPECT_EQ(env.get("a.test", {"-o", "/dev/null", "-w", "%{http_code}"}).output, "200");
  EXPECT_NE(env.fulcrum->log().find("fulcrum started"), std::string::npos);
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(SniPassthrough, OneByteWritesAndAProxyHeaderInFront) {
  SniEnv env;
  env.backend("a", {"a.test"});
  env.backend("b", {"b.test"});
  env.start(std::string("    proxy_protocol: true\n") + kRoutes);
  // curl sends a PROXY v1 header, then its ClientHello.
  auto r = env.get("a.test", {"--haproxy-protocol", "-o", "/dev/null", "-w", "%{http_code}"});
  EXPECT_EQ(r.output, "200") << r.output;
  auto split = shell("printf 'PROXY TCP4 10.0.0.1 10.0.0.2 1234 443\\r\\n' > " + env.dir.file("proxy") +
                     "; python3 " SOURCE_DIR "/tests/integration/clients/tls_split_hello.py 127.0.0.1 " +
                     std::to_string(env.port) + " b.test " + env.dir.file("ca.pem") + " " + env.dir.file("proxy"));
  EXPECT_EQ(split.code, 0) << split.output;
  EXPECT_NE(split.output.find(" 200 "), std::string::npos) << split.output;
  EXPECT_TRUE(env.fulcrum->running());
}

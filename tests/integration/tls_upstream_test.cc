// TLS to servers (issue #15 item 6): curl -> fulcrum (plain listener) -> httpbackend serving
// HTTPS with certificates a test CA makes at test time. The backend says in X-Tls how each of
// its connections was made (version, resumed, the client certificate's name).
#include <gtest/gtest.h>

#include "../tls_certs.h"
#include "admin_support.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

struct UpstreamTlsEnv {
  TempDir dir;
  testcerts::TestCa ca{"Fulcrum Upstream Test CA"};
  testcerts::TestCa otherCa{"Some Other CA"};
  uint16_t port = freePort();
  uint16_t admin = freePort();
  std::vector<HttpBackend> backends;
  std::unique_ptr<Process> fulcrum;

  UpstreamTlsEnv() {
    testcerts::writeFile(dir.file("ca.pem"), ca.pem());
    testcerts::writeFile(dir.file("other-ca.pem"), otherCa.pem());
  }
  // Writes NAME.pem and NAME.key, issued by `by` for `names`.
  void issue(testcerts::TestCa& by, const std::string& name, const std::vector<std::string>& names,
             long notBefore = -3600, long notAfter = 86400L * 30) {
    auto pem = by.issue(names, testcerts::Key::Ecdsa, notBefore, notAfter);
    testcerts::writeFile(dir.file(name + ".pem"), pem.cert);
    testcerts::writeFile(dir.file(name + ".key"), pem.key);
  }
  // An HTTPS backend serving certificate `cert` (NAME.pem / NAME.key); its port.
  uint16_t backend(const std::string& id, const std::string& cert, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--tls-cert", dir.file(cert + ".pem"), "--tls-key", dir.file(cert + ".key")};
    args.insert(args.end(), extra.begin(), extra.end());
    backends.push_back(startHttpBackend(dir, id, args));
    EXPECT_NE(backends.back().port, 0) << readFile(dir.file("httpbackend-" + id + ".log"));
    return backends.back().port;
  }
  void start(const std::string& pools, const std::string& listenerExtra = "", int workers = 2,
             const std::string& defaultPool = "web") {
    std::string top = "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n";
    fulcrum = startFulcrum(dir, httpConfig(port, pools, listenerExtra, defaultPool, top), port, workers);
  }
  // curl -i for `path`: the whole response.
  std::string get(const std::string& path) { return curl({"-i", url(port, path)}).output; }
  std::string code(const std::string& path) {
    return curl({"-o", "/dev/null", "-w", "%{http_code}", url(port, path)}).output;
  }
  std::string metrics() { return curl({url(admin, "/metrics")}).output; }
};

std::string tlsPool(const std::string& name, const std::vector<uint16_t>& ports, const std::string& tls,
                    const std::string& extra = "") {
  return httpPool(name, ports, "    tls:\n" + tls + extra);
}

double handshakes(const std::string& m, const std::string& pool, const std::string& version, const std::string& result) {
  return metric(m, "fulcrum_pool_tls_handshakes_total{pool=\"" + pool + "\",version=\"" + version + "\",result=\"" +
                       result + "\"}");
}

}  // namespace

TEST(TlsToServers, AVerifiedServerAnswersAndNewConnectionsResumeTheirSession) {
  UpstreamTlsEnv env;
  env.issue(env.ca, "backend", {"backend.test"});
  uint16_t b = env.backend("b1", "backend");
  // No idle connections kept: every request makes a new connection, so a handshake.
  env.start(tlsPool("web", {b}, "      ca: ca.pem\n      server_name: backend.test\n",
                    "    http: {idle_connections: 0}\n"));
  int resumed = 0;
  for (int i = 0; i < 6; ++i) {
    std::string r = env.get("/");
    ASSERT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r << env.fulcrum->log();
    std::string tls = headerOf(r, "X-Tls");
    EXPECT_NE(tls.find("TLSv1.3"), std::string::npos) << r;
    resumed += tls.find("resumed=1") != std::string::npos ? 1 : 0;
  }
  // One full handshake per worker at most (each keeps its own session per server).
  EXPECT_GE(resumed, 4) << "the backend saw resumed sessions";
  std::string m = env.metrics();
  EXPECT_LE(handshakes(m, "web", "TLSv1.3", "full"), 2) << m;
  EXPECT_GE(handshakes(m, "web", "TLSv1.3", "resumed"), 4) << m;
  EXPECT_EQ(handshakes(m, "web", "TLSv1.3", "full") + handshakes(m, "web", "TLSv1.3", "resumed"), 6) << m;
  EXPECT_EQ(metric(m, "fulcrum_pool_tls_errors_total{pool=\"web\",reason=\"certificate\"}"), 0) << m;
}

TEST(TlsToServers, Tls12SessionsResumeTooAndSessionReuseCanBeTurnedOff) {
  UpstreamTlsEnv env;
  env.issue(env.ca, "backend", {"backend.test"});
  uint16_t b12 = env.backend("b12", "backend", {"--tls-max-version", "1.2"});
  uint16_t b13 = env.backend("b13", "backend");
  std::string tls = "      ca: ca.pem\n      server_name: backend.test\n";
  std::string routes = "    http:\n      routes:\n        - match: {path_prefix: /fresh/}\n          pool: fresh\n";
  env.start(tlsPool("web", {b12}, tls, "    http: {idle_connections: 0}\n") +
                tlsPool("fresh", {b13}, tls + "      session_reuse: false\n", "    http: {idle_connections: 0}\n"),
            routes, 1);
  int resumed = 0;
  for (int i = 0; i < 4; ++i) {
    std::string r = env.get("/");
    ASSERT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
    EXPECT_NE(headerOf(r, "X-Tls").find("TLSv1.2"), std::string::npos) << r;
    resumed += headerOf(r, "X-Tls").find("resumed=1") != std::string::npos ? 1 : 0;
    std::string f = env.get("/fresh/");
    ASSERT_NE(f.find("HTTP/1.1 200"), std::string::npos) << f;
    EXPECT_NE(headerOf(f, "X-Tls").find("resumed=0"), std::string::npos) << f;
  }
  EXPECT_EQ(resumed, 3);
  std::string m = env.metrics();
  EXPECT_EQ(handshakes(m, "web", "TLSv1.2", "full"), 1) << m;
  EXPECT_EQ(handshakes(m, "web", "TLSv1.2", "resumed"), 3) << m;
  EXPECT_EQ(handshakes(m, "fresh", "TLSv1.3", "full"), 4) << m;
}

TEST(TlsToServers, KeepAlivePoolingReusesOneTlsConnectionForManyRequests) {
  UpstreamTlsEnv env;
  env.issue(env.ca, "backend", {"backend.test"});
  uint16_t b = env.backend("b1", "backend");
  env.start(tlsPool("web", {b}, "      ca: ca.pem\n      server_name: backend.test\n"), "", 1);
  std::string conn;
  for (int i = 1; i <= 8; ++i) {
    std::string r = env.get("/");
    ASSERT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
    if (i == 1) {
      conn = headerOf(r, "X-Conn");
    }
    EXPECT_EQ(headerOf(r, "X-Conn"), conn) << "one server connection for every request";
    EXPECT_EQ(headerOf(r, "X-Conn-Requests"), std::to_string(i)) << r;
  }
  std::string m = env.metrics();
  EXPECT_EQ(handshakes(m, "web", "TLSv1.3", "full"), 1) << m;
  EXPECT_EQ(handshakes(m, "web", "TLSv1.3", "resumed"), 0) << m;
}

TEST(TlsToServers, ABadServerCertificateIs502WithTheReasonLoggedUnlessVerifyIsOff) {
  UpstreamTlsEnv env;
  env.issue(env.otherCa, "stranger", {"backend.test"});                 // another CA
  env.issue(env.ca, "misnamed", {"other.test"});                        // another name
  env.issue(env.ca, "expired", {"backend.test"}, -86400L * 30, -86400);  // expired yesterday
  env.issue(env.ca, "good", {"backend.test"});
  uint16_t stranger = env.backend("stranger", "stranger");
  uint16_t misnamed = env.backend("misnamed", "misnamed");
  uint16_t expired = env.backend("expired", "expired");
  uint16_t good = env.backend("good", "good");
  std::string tls = "      ca: ca.pem\n      server_name: backend.test\n";
  std::string once = "    retries: 0\n    outlier_detection: {enabled: false}\n";
  std::string routes = "    http:\n      routes:\n";
  for (const char* p : {"stranger", "misnamed", "expired", "unverified", "mixed"}) {
    routes += std::string("        - match: {path_prefix: /") + p + "/}\n          pool: " + p + "\n";
  }
  env.start(tlsPool("stranger", {stranger}, tls, once) + tlsPool("misnamed", {misnamed}, tls, once) +
                tlsPool("expired", {expired}, tls, once) +
                tlsPool("unverified", {stranger}, "      verify: false\n      server_name: backend.test\n", once) +
                // A server that fails its handshake is a connect failure: retried on the next one.
                tlsPool("mixed", {expired, good}, tls, "    retries: 1\n"),
            routes, 2, "");
  EXPECT_EQ(env.code("/stranger/"), "502");
  EXPECT_EQ(env.code("/misnamed/"), "502");
  EXPECT_EQ(env.code("/expired/"), "502");
  EXPECT_EQ(env.code("/unverified/"), "200");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(env.code("/mixed/"), "200");
  }
  std::string log = env.fulcrum->log();
  auto logged = [&](uint16_t server, const std::string& reason) {
    for (size_t at = log.find(reason); at != std::string::npos; at = log.find(reason, at + 1)) {
      size_t begin = log.rfind('\n', at);
      std::string line = log.substr(begin + 1, log.find('\n', at) - begin - 1);
      if (line.find("127.0.0.1:" + std::to_string(server)) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(logged(stranger, "unable to get local issuer certificate")) << log;
  EXPECT_TRUE(logged(misnamed, "hostname mismatch (expected backend.test)")) << log;
  EXPECT_TRUE(logged(expired, "certificate has expired")) << log;
  std::string m = env.metrics();
  EXPECT_EQ(metric(m, "fulcrum_pool_tls_errors_total{pool=\"stranger\",reason=\"certificate\"}"), 1) << m;
  EXPECT_EQ(metric(m, "fulcrum_pool_tls_errors_total{pool=\"misnamed\",reason=\"certificate\"}"), 1) << m;
  EXPECT_EQ(metric(m, "fulcrum_pool_tls_errors_total{pool=\"expired\",reason=\"certificate\"}"), 1) << m;
  EXPECT_EQ(metric(m, "fulcrum_pool_tls_errors_total{pool=\"unverified\",reason=\"certificate\"}"), 0) << m;
  EXPECT_GE(metric(m, "fulcrum_pool_tls_errors_total{pool=\"mixed\",reason=\"certificate\"}"), 1) << m;
  EXPECT_EQ(metric(m, "fulcrum_pool_tls_errors_total{pool=\"stranger\",reason=\"handshake\"}"), 0) << m;
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(TlsToServers, AClientCertificateIsPresentedToAServerThatRequiresOne) {
  UpstreamTlsEnv env;
  env.issue(env.ca, "backend", {"backend.test"});
  env.issue(env.ca, "client", {"fulcrum.client"});
  uint16_t b = env.backend("b1", "backend", {"--tls-client-ca", env.dir.file("ca.pem")});
  std::string tls = "      ca: ca.pem\n      server_name: backend.test\n";
  std::string routes = "    http:\n      routes:\n        - match: {path_prefix: /anon/}\n          pool: anon\n";
  env.start(tlsPool("web", {b}, tls + "      certificate: {cert: client.pem, key: client.key}\n") +
                tlsPool("anon", {b}, tls, "    retries: 0\n"),
            routes);
  std::string r = env.get("/");
  ASSERT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r << env.fulcrum->log();
  EXPECT_NE(headerOf(r, "X-Tls").find("client=fulcrum.client"), std::string::npos) << r;
  // Without one the server refuses (TLS 1.3: with an alert after the handshake): a 502 and a
  // line naming the server. Which line depends on a race the server's kernel decides: when the
  // request reaches it after it closed, its reset can beat the alert (the alert is then never
  // read, and the write failure is all there is to say).
  EXPECT_EQ(env.code("/anon/"), "502");
  EXPECT_TRUE(waitFor(
      [&] {
        const std::string log = env.fulcrum->log();
        return log.find("certificate required") != std::string::npos ||
               (log.find("pool=anon") != std::string::npos && log.find("write to server failed") != std::string::npos);
      },
      3s))
      << env.fulcrum->log();
}

TEST(TlsToServers, HttpHealthChecksSpeakTlsAndABadCertificateMarksTheServerDown) {
  UpstreamTlsEnv env;
  env.issue(env.ca, "good", {"backend.test"});
  env.issue(env.ca, "expired", {"backend.test"}, -86400L * 30, -86400);
  uint16_t good = env.backend("good", "good");
  uint16_t expired = env.backend("expired", "expired");
  env.start(tlsPool("web", {good, expired}, "      ca: ca.pem\n      server_name: backend.test\n",
                    "    health_check: {type: http, interval: 200ms, timeout: 200ms, fall: 1, rise: 1}\n"));
  auto up = [&](uint16_t port) {
    return metric(env.metrics(), "fulcrum_server_up{pool=\"web\",server=\"127.0.0.1:" + std::to_string(port) + "\"}");
  };
  // A plain HTTP check of an HTTPS server would fail: the good one stays up only over TLS.
  EXPECT_TRUE(waitFor([&] { return up(expired) == 0; }, 3s)) << env.fulcrum->log();
  EXPECT_TRUE(waitFor([&] { return metric(env.metrics(), "fulcrum_server_checks_total{pool=\"web\",server=\"127.0.0.1:" +
                                                             std::to_string(good) + "\",result=\"success\"}") >= 3;
                      },
                      3s))
      << env.metrics();
  EXPECT_EQ(up(good), 1);
  EXPECT_NE(env.fulcrum->log().find("TLS handshake: server certificate refused: certificate has expired"),
            std::string::npos)
      << env.fulcrum->log();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(env.code("/"), "200");
  }
}

TEST(TlsToServers, CheckAndReloadReadTheFilesAndAReloadNeverReusesAConnectionOfOtherSettings) {
  UpstreamTlsEnv env;
  env.issue(env.ca, "backend", {"backend.test"});
  uint16_t b = env.backend("b1", "backend");
  auto config = [&](const std::string& ca) {
    std::string top = "admin:\n  bind: 127.0.0.1:" + std::to_string(env.admin) + "\n";
    return httpConfig(env.port,
                      tlsPool("web", {b}, "      ca: " + ca + "\n      server_name: backend.test\n", "    retries: 0\n"),
                      "", "web", top);
  };
  // `fulcrum check` reads the CA file as start and reload do.
  writeFile(env.dir.file("check.yaml"), config("missing.pem"));
  auto bad = runCommand({FULCRUM_BIN, "check", "-c", env.dir.file("check.yaml")});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.output.find("check.yaml:11:7: pools[0].tls.ca: " + env.dir.file("missing.pem") +
                            ": no PEM CA certificate could be read from it"),
            std::string::npos)
      << bad.output;
  writeFile(env.dir.file("check.yaml"), config("ca.pem"));
  EXPECT_EQ(runCommand({FULCRUM_BIN, "check", "-c", env.dir.file("check.yaml")}).code, 0);

  env.fulcrum = startFulcrum(env.dir, config("ca.pem"), env.port, 1);
  ASSERT_EQ(env.code("/"), "200");  // its connection stays in the pool
  // A bad CA file: the reload is rejected and the running context serves on.
  writeFile(env.dir.file("fulcrum.yaml"), config("missing.pem"));
  env.fulcrum->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return env.fulcrum->log().find("reload rejected") != std::string::npos; }, 5s));
  EXPECT_EQ(env.code("/"), "200");
  // Another CA: the pooled connection (checked against the old one) is not reused.
  writeFile(env.dir.file("fulcrum.yaml"), config("other-ca.pem"));
  env.fulcrum->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return env.code("/") == "502"; }, 5s)) << env.fulcrum->log();
  EXPECT_NE(env.fulcrum->log().find("unable to get local issuer certificate"), std::string::npos);
}

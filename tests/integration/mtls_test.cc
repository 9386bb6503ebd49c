// Client certificates (mTLS, issue #15 item 5) with curl --cert/--key and openssl s_client
// against a real fulcrum: required and optional, a CA bundle and a CRL, the identity headers
// (and forged ones removed), routes on the subject, refusals counted by reason.
#include <gtest/gtest.h>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

struct MtlsEnv {
  TempDir dir;
  testcerts::TestCa serverCa{"Server CA"};
  testcerts::TestCa clientCa{"Client CA"};
  testcerts::TestCa otherCa{"Other CA"};
  HttpBackend web;
  HttpBackend admins;
  uint16_t port = freePort();
  uint16_t admin = freePort();
  long revokedSerial = 0;
  std::unique_ptr<Process> fulcrum;

  MtlsEnv() {
    testcerts::writeFile(dir.file("server-ca.pem"), serverCa.pem());
    testcerts::writeFile(dir.file("clients-ca.pem"), clientCa.pem());
    write("site", serverCa.issue({"site.test"}));
    write("alice", clientCa.issue({"alice.client"}));
    write("bob", clientCa.issue({"bob.client"}));
    write("mallory", clientCa.issue({"mallory.client"}));
    revokedSerial = clientCa.lastSerial();
    write("stranger", otherCa.issue({"alice.client"}));  // the same name, from another CA
    testcerts::writeFile(dir.file("clients.crl"), clientCa.crl({revokedSerial}));
    web = startHttpBackend(dir, "web");
    admins = startHttpBackend(dir, "admins");
  }
  void write(const std::string& name, const testcerts::Pem& pem) {
    testcerts::writeFile(dir.file(name + ".pem"), pem.cert);
    testcerts::writeFile(dir.file(name + ".key"), pem.key);
  }
  std::string config(const std::string& mode, const std::string& extra = "", const std::string& listenerExtra = "") {
    std::string l = "    tls:\n      certificates:\n        - {cert: site.pem, key: site.key}\n"
                    "      client_certificates:\n        mode: " + mode +
                    "\n        ca: clients-ca.pem\n        crl: clients.crl\n" + extra + listenerExtra;
    return httpConfig(port, httpPool("web", {web.port}) + httpPool("admins", {admins.port}), l, "web",
                      "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n");
  }
  void start(const std::string& yaml) { fulcrum = startFulcrum(dir, yaml, port); }
  // curl to /headers with `who`'s certificate (empty: none).
  RunResult get(const std::string& who, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--cacert", dir.file("server-ca.pem"), "--resolve",
                                  "site.test:" + std::to_string(port) + ":127.0.0.1"};
    if (!who.empty()) {
      args.insert(args.end(), {"--cert", dir.file(who + ".pem"), "--key", dir.file(who + ".key")});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://site.test:" + std::to_string(port) + "/headers");
    return curl(args);
  }
  double metric(const std::string& reason) {
    std::string m = curl({url(admin, "/metrics")}).output;
    std::string key = "fulcrum_listener_tls_client_certificate_failures_total{listener=\"front\",reason=\"" + reason +
                      "\"} ";
    size_t at = m.find(key);
    return at == std::string::npos ? -1.0 : std::stod(m.substr(at + key.size()));
  }
  // The SHA-256 fingerprint of NAME.pem as openssl prints it, in the header's form.
  std::string fingerprint(const std::string& name) {
    auto r = shell("/usr/bin/openssl x509 -noout -fingerprint -sha256 -in " + dir.file(name + ".pem"));
    std::string hex;
    for (char c : r.output.substr(r.output.find('=') + 1)) {
      if (std::isxdigit(static_cast<unsigned char>(c))) {
        hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    return hex;
  }
};

}  // namespace

TEST(Mtls, RequiredRefusesNoCertificateAnotherCaAndRevokedOnesCountingAndLoggingWhy) {
  MtlsEnv env;
  env.start(env.config("required"));
  // Verified: served, the server told who it is.
  auto ok = env.get("alice", {"-H", "X-Client-Subject: CN=admin"});
  ASSERT_EQ(ok.code, 0) << ok.output << env.fulcrum->log();
  EXPECT_NE(ok.output.find("[\"X-Client-Subject\", \"CN=alice.client\"]"), std::string::npos) << ok.output;
  EXPECT_EQ(ok.output.find("CN=admin"), std::string::npos) << "the client's own is removed: " << ok.output;
  EXPECT_NE(ok.output.find("[\"X-Client-SANs\", \"DNS:alice.client\"]"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("[\"X-Client-Fingerprint\", \"" + env.fingerprint("alice") + "\"]"), std::string::npos)
      << ok.output;
  // No certificate: curl (TLS 1.3: the refusal comes as an alert after its Finished) and s_client.
  auto none = env.get("");
  EXPECT_NE(none.code, 0) << none.output;
  EXPECT_EQ(none.output.find("\"headers\""), std::string::npos) << none.output;
  auto s = shell("(sleep 0.5) | timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(env.port) +
                 " -servername site.test -CAfile " + env.dir.file("server-ca.pem") + " 2>&1");
  EXPECT_NE(s.output.find("certificate required"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("Acceptable client certificate CA names\nCN = Client CA"), std::string::npos) << s.output;
  // From another CA, and revoked.
  EXPECT_NE(env.get("stranger").code, 0);
  EXPECT_NE(env.get("mallory").code, 0);
  EXPECT_TRUE(waitFor([&] { return env.metric("revoked") == 1; }, 3s));
  EXPECT_EQ(env.metric("missing"), 2);
  EXPECT_EQ(env.metric("untrusted"), 1);
  EXPECT_EQ(env.metric("expired"), 0);
  std::string log = env.fulcrum->log();
  EXPECT_NE(log.find("client certificate refused: untrusted (unable to get local issuer certificate)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("client certificate refused: revoked (certificate revoked)"), std::string::npos) << log;
  EXPECT_NE(log.find("client certificate refused: missing"), std::string::npos) << log;
  // TLS 1.2 too.
  auto bob = env.get("bob", {"--tls-max", "1.2", "-o", "/dev/null", "-w", "%{http_code}"});
  EXPECT_EQ(bob.output, "200");
  EXPECT_NE(env.get("", {"--tls-max", "1.2"}).code, 0);
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(Mtls, OptionalServesWithoutACertificateAndForgedIdentityHeadersNeverReachTheServer) {
  MtlsEnv env;
  env.start(env.config("optional", "        headers: {subject: X-Client-DN, sans: \"\"}\n"));
  auto anon = env.get("", {"-H", "X-Client-DN: CN=alice.client", "-H", "X-Client-Fingerprint: 00",
                           "-H", "X-Client-SANs: DNS:forged"});
  ASSERT_EQ(anon.code, 0) << anon.output;
  EXPECT_NE(anon.output.find("\"headers\""), std::string::npos) << anon.output;
  EXPECT_EQ(anon.output.find("X-Client-DN"), std::string::npos) << anon.output;
  EXPECT_EQ(anon.output.find("X-Client-Fingerprint"), std::string::npos) << anon.output;
  // (sans: "" sends none, so a client's X-Client-SANs is only a header like any other)
  EXPECT_NE(anon.output.find("DNS:forged"), std::string::npos) << anon.output;
  auto alice = env.get("alice", {"-H", "X-Client-DN: CN=root"});
  EXPECT_NE(alice.output.find("[\"X-Client-DN\", \"CN=alice.client\"]"), std::string::npos) << alice.output;
  EXPECT_EQ(alice.output.find("CN=root"), std::string::npos) << alice.output;
  // Optional does not mean unchecked: a certificate that is sent must verify.
  EXPECT_NE(env.get("stranger").code, 0);
  EXPECT_TRUE(waitFor([&] { return env.metric("untrusted") == 1; }, 3s));
}

TEST(Mtls, RoutesMatchOnTheClientCertificateSubjectOrPresence) {
  MtlsEnv env;
  std::string routes = "    http:\n      routes:\n"
                       "        - match: {path_prefix: /, client_certificate: {subject: CN=alice.client}}\n"
                       "          pool: admins\n"
                       "        - match: {client_certificate: {absent: true}}\n"
                       "          respond: {status: 403, body: \"who are you\\n\"}\n";
  env.start(env.config("optional", "", routes));
  auto alice = env.get("alice", {"-D", "-"});
  EXPECT_NE(alice.output.find("X-Backend: admins"), std::string::npos) << alice.output;
  auto bob = env.get("bob", {"-D", "-"});
  EXPECT_NE(bob.output.find("X-Backend: web"), std::string::npos) << bob.output;
  auto anon = env.get("", {"-D", "-"});
  EXPECT_NE(anon.output.find("HTTP/1.1 403"), std::string::npos) << anon.output;
}

// Over HTTP/2 the connection's certificate is every stream's: routes match on it and the
// servers are told who it is, as over HTTP/1.1.
TEST(Mtls, OverHttp2RoutesAndIdentityHeadersSeeTheCertificate) {
  MtlsEnv env;
  std::string listener = "    http2: {enabled: true}\n"
                         "    http:\n      routes:\n"
                         "        - match: {path_prefix: /, client_certificate: {subject: CN=alice.client}}\n"
                         "          pool: admins\n";
  env.start(env.config("optional", "", listener));
  auto alice = env.get("alice", {"--http2", "-D", "-", "-H", "X-Client-Subject: CN=forged"});
  EXPECT_NE(alice.output.find("HTTP/2 200"), std::string::npos) << alice.output;
  EXPECT_NE(alice.output.find("x-backend: admins"), std::string::npos) << alice.output;
  EXPECT_NE(alice.output.find("CN=alice.client"), std::string::npos) << alice.output;
  EXPECT_EQ(alice.output.find("CN=forged"), std::string::npos) << alice.output;
  auto bob = env.get("bob", {"--http2", "-D", "-"});
  EXPECT_NE(bob.output.find("x-backend: web"), std::string::npos) << bob.output;
}

TEST(Mtls, BadClientCertificateSettingsAreConfigErrorsWithFileLineColumn) {
  MtlsEnv env;
  writeFile(env.dir.file("noca.yaml"), env.config("required"));
  std::string yaml = env.config("sometimes");
  writeFile(env.dir.file("mode.yaml"), yaml);
  auto mode = runCommand({FULCRUM_BIN, "check", env.dir.file("mode.yaml")});
  EXPECT_EQ(mode.code, 1);
  EXPECT_NE(mode.output.find("mode.yaml:12:15: error: listeners[0].tls.client_certificates.mode"), std::string::npos)
      << mode.output;
  ::unlink(env.dir.file("clients.crl").c_str());
  auto crl = runCommand({FULCRUM_BIN, "check", env.dir.file("noca.yaml")});
  EXPECT_EQ(crl.code, 1);
  EXPECT_NE(crl.output.find("noca.yaml:14:14: listeners[0].tls.client_certificates.crl: " + env.dir.file("clients.crl") +
                            ": cannot read the CRL file"),
            std::string::npos)
      << crl.output;
  writeFile(env.dir.file("clients.crl"), "not a CRL\n");
  crl = runCommand({FULCRUM_BIN, "check", env.dir.file("noca.yaml")});
  EXPECT_NE(crl.output.find("no PEM certificate revocation list"), std::string::npos) << crl.output;
  writeFile(env.dir.file("route.yaml"),
            env.config("required", "",
                       "    http:\n      routes:\n        - match: {client_certificate: {subject: a, present: true}}\n"
                       "          pool: web\n"));
  auto route = runCommand({FULCRUM_BIN, "check", env.dir.file("route.yaml")});
  EXPECT_EQ(route.code, 1);
  EXPECT_NE(route.output.find("route.yaml:17:39: error: listeners[0].http.routes[0].match.client_certificate: "
                              "expected exactly one of"),
            std::string::npos)
      << route.output;
}

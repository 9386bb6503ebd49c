// TLS termination on tcp listeners (issue #15 item 1): the handshake on the listener, the
// plaintext relayed to a plain fulcrum-testbackend, with an OpenSSL client in the test (it
// must write and read at once, and half-close with close_notify) and openssl s_client.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tls_certs.h"
#include "configs.h"
#include "harness.h"

using namespace itest;

namespace {

// A TLS client over a non-blocking socket: sends `out` while reading what comes back, then
// half-closes (close_notify, then FIN) and reads on to the server's end. Bounded by `limit`.
struct Exchange {
  bool ok = false;
  std::string in;
  std::string error;
};

Exchange tlsExchange(uint16_t port, const std::string& caFile, const std::string& sni, const std::string& out,
                     std::chrono::milliseconds limit = 20s) {
  Exchange x;
  auto deadline = std::chrono::steady_clock::now() + limit;
  int fd = connectTcp(port);
  if (fd < 0) {
    x.error = "connect";
    return x;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, caFile.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, sni.c_str());
  SSL_set1_host(ssl, sni.c_str());
  SSL_set_connect_state(ssl);
  size_t sent = 0;
  bool shut = false;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      x.error = "timed out with " + std::to_string(x.in.size()) + " bytes in, " + std::to_string(sent) + " out";
      break;
    }
    bool progress = false;
    short want = POLLIN;
    if (!SSL_is_init_finished(ssl)) {
      int r = SSL_do_handshake(ssl);
      if (r != 1) {
        int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
          char why[256];
          ERR_error_string_n(ERR_get_error(), why, sizeof why);
          x.error = std::string("handshake: ") + why;
          break;
        }
        pollfd p{fd, static_cast<short>(e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
        poll(&p, 1, 100);
        continue;
      }
    }
    if (sent < out.size()) {
      size_t n = 0;
      int r = SSL_write_ex(ssl, out.data() + sent, std::min<size_t>(out.size() - sent, 64 * 1024), &n);
      if (r == 1) {
        sent += n;
        progress = true;
      } else if (SSL_get_error(ssl, r) == SSL_ERROR_WANT_WRITE) {
        want |= POLLOUT;
      } else if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ) {
        x.error = "write failed";
        break;
      }
    } else if (!shut) {
      SSL_shutdown(ssl);  // close_notify: this direction is done; reads go on
      ::shutdown(fd, SHUT_WR);
      shut = true;
    }
    size_t got = 0;
    int r = SSL_read_ex(ssl, buf.data(), buf.size(), &got);
    if (r == 1) {
      x.in.append(buf.data(), got);
      progress = true;
    } else {
      int e = SSL_get_error(ssl, r);
      if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) {
        x.ok = sent == out.size();
        if (!x.ok) {
          x.error = "the server ended after " + std::to_string(sent) + " bytes sent";
        }
        break;
      }
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        char why[256];
        ERR_error_string_n(ERR_get_error(), why, sizeof why);
        x.error = std::string("read failed: ") + why;
        break;
      }
    }
    if (!progress) {
      pollfd p{fd, want, 0};
      poll(&p, 1, 100);
    }
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return x;
}

struct TcpTlsEnv {
  TempDir dir;
  testcerts::TestCa ca;
  uint16_t port = freePort();
  uint16_t admin = freePort();
  std::unique_ptr<Process> fulcrum;

  TcpTlsEnv() {
    testcerts::writeFile(dir.file("ca.pem"), ca.pem());
    auto pem = ca.issue({"relay.test"});
    testcerts::writeFile(dir.file("relay.pem"), pem.cert);
    testcerts::writeFile(dir.file("relay.key"), pem.key);
  }
  void start(uint16_t backendPort, const std::string& poolExtra = "") {
    std::string yaml = "timeouts:\n  handshake: 2s\nadmin:\n  bind: 127.0.0.1:" + std::to_string(admin) +
                       "\n" +
                       simpleTcp(port, {{backendPort}}, "", poolExtra,
                                 "tls:\n      certificates:\n        - {cert: relay.pem, key: relay.key}");
    fulcrum = startFulcrum(dir, yaml, port);
  }
  double metric(const std::string& key) {
    std::string m = runCommand({"/usr/bin/curl", "-s", "http://127.0.0.1:" + std::to_string(admin) + "/metrics"}).output;
    size_t at = m.find(key + " ");
    return at == std::string::npos ? -1.0 : std::stod(m.substr(at + key.size() + 1));
  }
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x);
  }
  return s;
}

}  // namespace

TEST(TcpTls, ATlsClientIsRelayedInPlaintextByteExactBothWaysWithHalfClose) {
  TcpTlsEnv env;
  auto backend = startBackend(env.dir, "plain", true, false, "cmd");
  env.start(backend.tcp_port);
  // ECHO: 6 MiB up, echoed back while it is sent; the client's close_notify and FIN reach the
  // backend as a FIN, which flushes and ends; its FIN comes back as close_notify.
  std::string data = pattern(6 << 20);
  auto x = tlsExchange(env.port, env.dir.file("ca.pem"), "relay.test", "ECHO\n" + data);
  ASSERT_TRUE(x.ok) << x.error << env.fulcrum->log();
  ASSERT_EQ(x.in.size(), data.size());
  EXPECT_TRUE(x.in == data) << "byte-exact both ways";
  // HALFCLOSE: the backend counts to the client's end of input, then answers on the open half.
  auto h = tlsExchange(env.port, env.dir.file("ca.pem"), "relay.test", "HALFCLOSE\n" + pattern(1 << 20));
  ASSERT_TRUE(h.ok) << h.error;
  EXPECT_EQ(h.in, "GOT 1048576\n");
  // openssl s_client: a real tool's session, the backend answers in plaintext.
  auto s = runCommand({"/bin/sh", "-c",
                       "(echo WHO; sleep 0.5) | timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" +
                           std::to_string(env.port) + " -servername relay.test -verify_return_error -CAfile " +
                           env.dir.file("ca.pem") + " 2>&1"});
  EXPECT_NE(s.output.find("Verify return code: 0 (ok)"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("\nplain\n"), std::string::npos) << s.output;
  // Counted as an http listener's handshakes are.
  EXPECT_EQ(env.metric("fulcrum_listener_tls_handshakes_total{listener=\"front\",version=\"TLSv1.3\",result=\"full\"}"),
            3);
}

TEST(TcpTls, ThePoolStillGetsAProxyHeaderWithTheTlsClientsAddress) {
  TcpTlsEnv env;
  auto backend = startBackend(env.dir, "proxied", true, false, "cmd", true);
  env.start(backend.tcp_port, "send_proxy_protocol: v2");
  auto x = tlsExchange(env.port, env.dir.file("ca.pem"), "relay.test", "PROXYINFO\n");
  ASSERT_TRUE(x.ok) << x.error << env.fulcrum->log();
  EXPECT_EQ(x.in.rfind("PROXY 127.0.0.1 ", 0), 0u) << x.in;
  EXPECT_NE(x.in.find(" 127.0.0.1 " + std::to_string(env.port) + "\n"), std::string::npos) << x.in;
}

TEST(TcpTls, GarbageOrSilenceInsteadOfAHandshakeIsClosedCountedAndNeverReachesTheServer) {
  TcpTlsEnv env;
  auto backend = startBackend(env.dir, "plain", true, false, "cmd");
  env.start(backend.tcp_port);
  const std::string failed = "fulcrum_listener_tls_handshakes_total{listener=\"front\",version=\"none\",result=\"failed\"}";
  double before = env.metric(failed);  // (startFulcrum's probe connection is one)
  int g = connectTcp(env.port);
  ASSERT_GE(g, 0);
  sendStr(g, "WHO\nnot TLS at all\r\n\r\n");
  EXPECT_TRUE(closedWithin(g, 3s));
  ::close(g);
  EXPECT_TRUE(waitFor([&] { return env.metric(failed) == before + 1; }, 3s))
      << runCommand({"/usr/bin/curl", "-s", "http://127.0.0.1:" + std::to_string(env.admin) + "/metrics"}).output;
  // Silent: cut at timeouts.handshake (2s).
  int s = connectTcp(env.port);
  ASSERT_GE(s, 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(closedWithin(s, 6s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1900ms);
  ::close(s);
  // No server connection was made for either.
  EXPECT_EQ(env.metric("fulcrum_server_connections_total{pool=\"back\",server=\"127.0.0.1:" +
                       std::to_string(backend.tcp_port) + "\"}"),
            0);
  auto x = tlsExchange(env.port, env.dir.file("ca.pem"), "relay.test", "WHO\n");
  EXPECT_TRUE(x.ok) << x.error;
  EXPECT_EQ(x.in, "plain\n");
  EXPECT_TRUE(env.fulcrum->running());
}

TEST(TcpTls, TlsWithSniRoutesIsStillAConfigError) {
  TempDir dir;
  writeFile(dir.file("tcp.yaml"), "listeners:\n  - name: t\n    bind: 127.0.0.1:1\n    protocol: tcp\n    pool: p\n"
                                  "    tls:\n      certificates:\n        - {cert: a.pem, key: a.key}\n"
                                  "    sni_routes:\n      - {names: [a.test], pool: p}\npools:\n"
                                  "  - name: p\n    servers:\n      - address: 127.0.0.1:2\n");
  auto r = runCommand({FULCRUM_BIN, "check", dir.file("tcp.yaml")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("tcp.yaml:9:5: error: listeners[0].sni_routes: a listener either terminates TLS"),
            std::string::npos)
      << r.output;
}

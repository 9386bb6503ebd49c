// TLS records, kernel TLS and handshake metrics (issue #15, items 8 and 10): a real fulcrum,
// clients over OpenSSL that see every record, curl, openssl s_client and promtool.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <thread>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

struct Env {
  TempDir dir;
  testcerts::TestCa ca;
  HttpBackend backend;
  uint16_t port = freePort();
  uint16_t admin = freePort();
  std::unique_ptr<Process> fulcrum;

  // One http listener with TLS (an ECDSA certificate for site.test) and the admin API.
  explicit Env(const std::string& tlsExtra = "") {
    testcerts::writeFile(dir.file("ca.pem"), ca.pem());
    auto pem = ca.issue({"site.test"}, testcerts::Key::Ecdsa, -3600, 86400L * 30);
    testcerts::writeFile(dir.file("site.pem"), pem.cert);
    testcerts::writeFile(dir.file("site.key"), pem.key);
    backend = startHttpBackend(dir, "b1");
    std::string tls = "    tls:\n      certificates:\n        - cert: site.pem\n          key: site.key\n" + tlsExtra;
    fulcrum = startFulcrum(dir,
                           httpConfig(port, httpPool("web", {backend.port}), tls, "web",
                                      "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n"),
                           port);
  }
  std::string metrics() { return curl({url(admin, "/metrics")}).output; }
  RunResult get(const std::vector<std::string>& extra, const std::string& path = "/headers") {
    std::vector<std::string> args{"--cacert", dir.file("ca.pem"), "--resolve",
                                  "site.test:" + std::to_string(port) + ":127.0.0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://site.test:" + std::to_string(port) + path);
    return curl(args);
  }
};

// A TLS 1.3 client that records the plaintext size of every application-data record it
// receives (from the record headers and inner content types OpenSSL's message callback shows).
class RecordClient {
 public:
  RecordClient(uint16_t port, const std::string& caFile) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
    SSL_CTX_load_verify_locations(ctx_, caFile.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    fd_ = connectTcp(port);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "site.test");
    SSL_set_msg_callback(ssl_, &RecordClient::onMessage);
    SSL_set_msg_callback_arg(ssl_, this);
  }
  ~RecordClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  bool handshake() { return fd_ >= 0 && SSL_connect(ssl_) == 1; }
  // GET path on the kept-alive connection; reads until `bodyBytes` of body came (bounded:
  // the socket has a receive timeout from connectTcp). The sizes of the records it came in.
  std::vector<size_t> get(const std::string& path, size_t bodyBytes) {
    records_.clear();
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: site.test\r\n\r\n";
    if (SSL_write(ssl_, req.data(), static_cast<int>(req.size())) <= 0) {
      return {};
    }
    std::string got;
    char buf[65536];
    size_t headEnd = std::string::npos;
    while (headEnd == std::string::npos || got.size() - headEnd < bodyBytes) {
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        return {};
      }
      got.append(buf, static_cast<size_t>(n));
      if (headEnd == std::string::npos && got.find("\r\n\r\n") != std::string::npos) {
        headEnd = got.find("\r\n\r\n") + 4;
      }
    }
    return records_;
  }

 private:
  static void onMessage(int writeP, int, int contentType, const void* buf, size_t len, SSL*, void* arg) {
    auto* self = static_cast<RecordClient*>(arg);
    const auto* p = static_cast<const uint8_t*>(buf);
    if (writeP) {
      return;
    }
    if (contentType == SSL3_RT_HEADER && len == 5) {
      self->last_len_ = static_cast<size_t>(p[3]) << 8 | p[4];
    } else if (contentType == SSL3_RT_INNER_CONTENT_TYPE && len == 1 && p[0] == SSL3_RT_APPLICATION_DATA) {
      self->records_.push_back(self->last_len_ - 17);  // less the inner type byte and the 16-byte tag
    }
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  size_t last_len_ = 0;
  std::vector<size_t> records_;
};

}  // namespace

TEST(TlsRecords, AResponseStartsInSmallRecordsThenBulkGoesInFullOnesAndIdleStartsSmallAgain) {
  Env env;
  RecordClient c(env.port, env.dir.file("ca.pem"));
  ASSERT_TRUE(c.handshake());
  // 256 KiB: the first ~14 KiB (head included) in records of at most 1400 bytes; then
  // records as large as what each read from the server brought, up to 16 KiB.
  auto first = c.get("/source/262144", 262144);
  ASSERT_FALSE(first.empty());
  size_t window = 0, i = 0;
  for (; i < first.size() && first[i] <= 1400; ++i) {
    window += first[i];
  }
  EXPECT_GE(window, 14u * 1024) << i << " small records first";
  EXPECT_LE(window, 20u * 1024) << "(the window, rounded up to a record, and maybe a short read of the server)";
  size_t full = 0;
  for (size_t r : first) {
    EXPECT_LE(r, 16384u);
    full += r == 16384;
  }
  EXPECT_GE(full, 8u) << "bulk goes in full records";
  // Small records are only the window's: on a busy connection the next response has no window
  // (at most its head and a server read's leftover go in short records).
  auto smallBytes = [](const std::vector<size_t>& rs, size_t n) {
    size_t sum = 0;
    for (size_t k = 0; k < rs.size() && k < n; ++k) {
      sum += rs[k] <= 1400 ? rs[k] : 0;
    }
    return sum;
  };
  auto busy = c.get("/source/65536", 65536);
  ASSERT_GE(busy.size(), 4u);
  EXPECT_LT(smallBytes(busy, busy.size()), 3000u) << "a busy connection keeps full records";
  // After a second and more of silence the window is small again.
  std::this_thread::sleep_for(1200ms);
  auto idle = c.get("/source/65536", 65536);
  ASSERT_GE(idle.size(), 10u);
  EXPECT_GE(smallBytes(idle, 10), 10u * 1024) << "small records again after idle";
}

TEST(TlsRecords, KernelTlsSwitchedOnWithoutKernelSupportIsLoggedAndTrafficFlows) {
  Env env("      ktls: true\n");
  ASSERT_TRUE(waitFor([&] { return env.fulcrum->log().find("kernel TLS: ") != std::string::npos; }, 5s))
      << env.fulcrum->log();
  // This machine kind's kernel has no TLS module (no /proc/net/tls_stat): the log says so.
  if (::access("/proc/net/tls_stat", F_OK) != 0) {
    EXPECT_NE(env.fulcrum->log().find("kernel TLS: not available"), std::string::npos) << env.fulcrum->log();
    EXPECT_NE(env.fulcrum->log().find("no TLS module"), std::string::npos) << env.fulcrum->log();
  }
  auto r = env.get({"-o", "/dev/null", "-w", "%{http_code}"});
  EXPECT_EQ(r.output, "200");
  auto big = env.get({"-o", env.dir.file("big.bin"), "-w", "%{http_code}"}, "/source/1048576");
  EXPECT_EQ(big.output, "200");
  EXPECT_EQ(readFile(env.dir.file("big.bin")), httpBlock(0, 1 << 20));
  // A config that says ktls: with something else than a boolean is refused with its place.
  writeFile(env.dir.file("bad.yaml"), readFile(env.dir.file("fulcrum.yaml")));
  auto yaml = readFile(env.dir.file("bad.yaml"));
  yaml.replace(yaml.find("ktls: true"), 10, "ktls: sure");
  writeFile(env.dir.file("bad.yaml"), yaml);
  auto bad = runCommand({FULCRUM_BIN, "check", env.dir.file("bad.yaml")});
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("listeners[0].tls.ktls"), std::string::npos) << bad.output;
}

TEST(TlsMetrics, HandshakesCountByVersionCipherAndResultWithATimeHistogram) {
  Env env;
  ASSERT_EQ(env.get({"-o", "/dev/null", "-w", "%{http_code}", "--tlsv1.3", "--tls13-ciphers",
                     "TLS_CHACHA20_POLY1305_SHA256"})
                .output,
            "200");
  ASSERT_EQ(env.get({"-o", "/dev/null", "-w", "%{http_code}", "--tlsv1.2", "--tls-max", "1.2", "--ciphers",
                     "ECDHE-ECDSA-AES256-GCM-SHA384"})
                .output,
            "200");
  // A TLS 1.3 session, then a resumption of it.
  std::string sess = env.dir.file("sess");
  std::string sclient = "timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(env.port) +
                        " -tls1_3 -servername site.test -CAfile " + env.dir.file("ca.pem");
  auto first = shell("(sleep 0.3) | " + sclient + " -sess_out " + sess + " 2>&1");
  ASSERT_NE(first.output.find("New, TLSv1.3"), std::string::npos) << first.output;
  auto again = shell("(sleep 0.1) | " + sclient + " -sess_in " + sess + " 2>&1");
  ASSERT_NE(again.output.find("Reused, TLSv1.3"), std::string::npos) << again.output;
  std::string m;
  auto value = [&](const std::string& key) {
    size_t at = m.find(key + " ");
    return at == std::string::npos ? -1.0 : std::stod(m.substr(at + key.size() + 1));
  };
  auto byCipher = [](const char* version, const char* cipher, const char* result) {
    return std::string("fulcrum_listener_tls_cipher_handshakes_total{listener=\"front\",version=\"") + version +
           "\",cipher=\"" + cipher + "\",result=\"" + result + "\"}";
  };
  const std::string count = "fulcrum_listener_tls_handshake_duration_seconds_count{listener=\"front\"}";
  // (s_client's last handshake is counted once fulcrum has read its end.)
  ASSERT_TRUE(waitFor(
      [&] {
        m = env.metrics();
        return value(count) == 4;
      },
      3s))
      << m;
  EXPECT_EQ(value(byCipher("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", "full")), 1) << m;
  EXPECT_EQ(value(byCipher("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384", "full")), 1) << m;
  EXPECT_EQ(value(byCipher("TLSv1.3", "TLS_AES_128_GCM_SHA256", "full")), 1) << m;
  EXPECT_EQ(value(byCipher("TLSv1.3", "TLS_AES_128_GCM_SHA256", "resumed")), 1) << m;
  EXPECT_EQ(value("fulcrum_listener_tls_handshake_duration_seconds_bucket{listener=\"front\",le=\"+Inf\"}"), 4) << m;
  EXPECT_GT(value("fulcrum_listener_tls_handshake_duration_seconds_sum{listener=\"front\"}"), 0) << m;
  EXPECT_NE(m.find("# TYPE fulcrum_listener_tls_handshake_duration_seconds histogram"), std::string::npos);
  auto lint = shell("/usr/bin/promtool check metrics <<'EOF'\n" + m + "EOF\n");
  EXPECT_EQ(lint.code, 0) << lint.output;
}

// ClientContext (TLS to servers) against a ServerContext over a socketpair: the server's
// certificate checked for the CA and the name (or IP address), the reason a refusal gives,
// sessions kept in a SessionSlot and resumed, and the build errors a config gets.
#include "tls/client_context.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "../../tls_certs.h"
#include "config/address.h"
#include "scratch_dir.h"
#include "tls/server_context.h"

using namespace fulcrum;

namespace {

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

config::Server server(const std::string& address) {
  config::Server s;
  s.address.text = address;
  return s;
}

class ClientContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pem = ca.issue({"a.test"});
    config::TlsCertificateFiles f;
    f.cert = dir.put("a.pem", pem.cert);
    f.key = dir.put("a.key", pem.key);
    f.where = "test.yaml:2:3: listeners[0].tls.certificates[0]";
    listener.certificates.push_back(f);
    listener.where = "test.yaml:1:1: listeners[0].tls";
    std::string error;
    serverContext = tls::ServerContext::build(listener, now(), error);
    ASSERT_TRUE(serverContext) << error;
    pool.enabled = true;
    pool.ca = dir.put("ca.pem", ca.pem());
    pool.where = "test.yaml:5:7: pools[0].tls";
  }
  std::shared_ptr<const tls::ClientContext> client() {
    std::string error;
    auto c = tls::ClientContext::build(pool, now(), error);
    EXPECT_TRUE(c) << error;
    return c;
  }
  // One connection to `address` (the server's config), both handshakes stepped (bounded), then
  // a byte from the server read by the client (which takes TLS 1.3 tickets in). The client
  // transport, or null when a handshake failed (`why`: the client's reason).
  std::unique_ptr<tls::TlsTransport> connect(const tls::ClientContext& c, const std::string& address,
                                             tls::SessionSlot* slot, std::string& why) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    fd_[0] = fds[0];
    fd_[1] = fds[1];
    auto s = serverContext->accept(fds[0]);
    auto t = c.connect(fds[1], server(address), slot, &stats);
    bool serverDone = false;
    bool clientDone = false;
    for (int i = 0; i < 20 && !(serverDone && clientDone); ++i) {
      if (!clientDone) {
        auto r = t->handshake();
        if (r == net::HandshakeStatus::Failed) {
          why = t->failure();
          lastRejected = t->certificateRejected();
          return nullptr;
        }
        clientDone = r == net::HandshakeStatus::Done;
      }
      if (!serverDone) {
        auto r = s->handshake();
        if (r == net::HandshakeStatus::Failed) {
          why = "server: " + s->failure();
          return nullptr;
        }
        serverDone = r == net::HandshakeStatus::Done;
      }
    }
    EXPECT_TRUE(serverDone && clientDone);
    uint8_t byte = 'x';
    EXPECT_EQ(s->write(&byte, 1).status, net::IoStatus::Ok);
    for (int i = 0; i < 10; ++i) {
      if (t->read(&byte, 1).status == net::IoStatus::Ok) {
        break;
      }
    }
    return t;
  }
  void TearDown() override {
    for (int fd : fd_) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }

  test::ScratchDir dir;
  testcerts::TestCa ca;
  config::ListenerTls listener;
  config::PoolTls pool;
  std::shared_ptr<const tls::ServerContext> serverContext;
  stats::Traffic stats;
  bool lastRejected = false;
  int fd_[2] = {-1, -1};
};

TEST_F(ClientContextTest, VerifiesTheNameFromServerNameOrTheAddressAndResumesFromTheSlot) {
  pool.server_name = "a.test";
  auto c = client();
  tls::SessionSlot slot;
  std::string why;
  auto first = connect(*c, "127.0.0.1:443", &slot, why);
  ASSERT_TRUE(first) << why;
  EXPECT_FALSE(first->resumed());
  EXPECT_FALSE(slot.empty()) << "the server's ticket is kept";
  first.reset();
  TearDown();
  auto second = connect(*c, "127.0.0.1:443", &slot, why);
  ASSERT_TRUE(second) << why;
  EXPECT_TRUE(second->resumed());
  second.reset();
  TearDown();
  EXPECT_EQ(stats.tls13_full.get(), 1u);
  EXPECT_EQ(stats.tls13_resumed.get(), 1u);
  // Without server_name, the host of the address is the name.
  pool.server_name.clear();
  auto byHost = client();
  ASSERT_TRUE(connect(*byHost, "a.test:443", nullptr, why)) << why;
}

TEST_F(ClientContextTest, ARefusedCertificateSaysWhy) {
  std::string why;
  pool.server_name = "b.test";
  EXPECT_FALSE(connect(*client(), "127.0.0.1:443", nullptr, why));
  EXPECT_EQ(why, "server certificate refused: hostname mismatch (expected b.test)");
  EXPECT_TRUE(lastRejected);
  TearDown();
  // An IP address is checked against the certificate's IP addresses (it has none).
  pool.server_name.clear();
  EXPECT_FALSE(connect(*client(), "127.0.0.1:443", nullptr, why));
  EXPECT_EQ(why, "server certificate refused: IP address mismatch (expected 127.0.0.1)");
  TearDown();
  // Another CA.
  testcerts::TestCa other("Other CA");
  pool.ca = dir.put("other.pem", other.pem());
  pool.server_name = "a.test";
  EXPECT_FALSE(connect(*client(), "127.0.0.1:443", nullptr, why));
  EXPECT_EQ(why, "server certificate refused: unable to get local issuer certificate");
  TearDown();
  EXPECT_EQ(stats.tls_failed.get(), 3u);
  EXPECT_EQ(stats.tls_certificate_rejected.get(), 3u);
  // verify: false takes it.
  pool.verify = false;
  EXPECT_TRUE(connect(*client(), "127.0.0.1:443", nullptr, why)) << why;
}

TEST_F(ClientContextTest, BuildErrorsNameTheConfigEntryAndTheFile) {
  std::string error;
  pool.ca = dir.path + "/missing.pem";
  EXPECT_FALSE(tls::ClientContext::build(pool, now(), error));
  EXPECT_NE(error.find("test.yaml:5:7: pools[0].tls.ca: " + pool.ca + ": no PEM CA certificate"), std::string::npos)
      << error;
  pool.ca = dir.put("garbage.pem", "not a certificate\n");
  EXPECT_FALSE(tls::ClientContext::build(pool, now(), error));
  EXPECT_NE(error.find("pools[0].tls.ca: " + pool.ca + ": no PEM CA certificate"), std::string::npos) << error;
  pool.ca = dir.put("ca.pem", ca.pem());
  pool.ciphers = "NOPE";
  EXPECT_FALSE(tls::ClientContext::build(pool, now(), error));
  EXPECT_NE(error.find("pools[0].tls.ciphers: no cipher OpenSSL knows in NOPE"), std::string::npos) << error;
  pool.ciphers = config::kDefaultTlsCiphers;
  auto mine = ca.issue({"client"});
  auto theirs = ca.issue({"other"});
  pool.client_certificate.cert = dir.put("c.pem", mine.cert);
  pool.client_certificate.key = dir.put("o.key", theirs.key);
  pool.client_certificate.where = "test.yaml:9:20: pools[0].tls.certificate";
  EXPECT_FALSE(tls::ClientContext::build(pool, now(), error));
  EXPECT_NE(error.find("test.yaml:9:20: pools[0].tls.certificate: " + pool.client_certificate.key +
                       ": the key does not match"),
            std::string::npos)
      << error;
  auto expired = ca.issue({"client"}, testcerts::Key::Ecdsa, -86400L * 10, -86400);
  pool.client_certificate.cert = dir.put("e.pem", expired.cert);
  pool.client_certificate.key = dir.put("e.key", expired.key);
  EXPECT_FALSE(tls::ClientContext::build(pool, now(), error));
  EXPECT_NE(error.find("the certificate expired on"), std::string::npos) << error;
  pool.client_certificate.key = dir.put("c.key", mine.key);
  pool.client_certificate.cert = dir.put("c.pem", mine.cert);
  EXPECT_TRUE(tls::ClientContext::build(pool, now(), error)) << error;
}

TEST(ClientContextNames, TheHostOfAnAddressAndWhetherItIsAnIpAddress) {
  bool ip = false;
  EXPECT_EQ(tls::hostOfAddress("app.internal:8443", ip), "app.internal");
  EXPECT_FALSE(ip);
  EXPECT_EQ(tls::hostOfAddress("10.1.2.3:80", ip), "10.1.2.3");
  EXPECT_TRUE(ip);
  EXPECT_EQ(tls::hostOfAddress("[::1]:443", ip), "::1");
  EXPECT_TRUE(ip);
}

}  // namespace

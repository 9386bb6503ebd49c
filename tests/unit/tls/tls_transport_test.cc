// ServerContext and TlsTransport over a socketpair, with an OpenSSL client on the other end:
// the handshake step by step, SNI choosing the certificate (exact, wildcard, default, refusal),
// ALPN, plaintext both ways, records held inside the transport, close_notify.
#include "tls/tls_transport.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "../../tls_certs.h"
#include "scratch_dir.h"
#include "tls/server_context.h"

using namespace fulcrum;

namespace {

class TlsTransportTest : public ::testing::Test {
 protected:
  // A listener with a.test (ECDSA and RSA), *.wild.test and the default d.test first.
  void SetUp() override {
    add("d", {"d.test"}, testcerts::Key::Ecdsa);
    add("a-ec", {"a.test"}, testcerts::Key::Ecdsa);
    add("a-rsa", {"a.test"}, testcerts::Key::Rsa);
    add("wild", {"*.wild.test"}, testcerts::Key::Ecdsa);
    tls.alpn = {"http/1.1"};
    tls.where = "test.yaml:1:1: listeners[0].tls";
  }
  void add(const std::string& name, const std::vector<std::string>& names, testcerts::Key kind) {
    auto pem = ca.issue(names, kind);
    config::TlsCertificateFiles f;
    f.cert = dir.path + "/" + name + ".pem";
    f.key = dir.path + "/" + name + ".key";
    f.where = "test.yaml:2:3: listeners[0].tls.certificates[" + std::to_string(tls.certificates.size()) + "]";
    testcerts::writeFile(f.cert, pem.cert);
    testcerts::writeFile(f.key, pem.key);
    tls.certificates.push_back(f);
  }
  std::shared_ptr<const tls::ServerContext> build() {
    std::string error;
    auto ctx = tls::ServerContext::build(tls, static_cast<int64_t>(std::time(nullptr)), error);
    EXPECT_TRUE(ctx) << error;
    return ctx;
  }
  // Connects a client (SNI `sni`, ALPN offer `alpn`) to a server transport over a socketpair,
  // stepping both handshakes (bounded). True when both finished.
  bool connect(const tls::ServerContext& ctx, const char* sni, const char* alpn = nullptr, const char* sigalgs = nullptr) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    server_fd = fds[0];
    client_fd = fds[1];
    server = ctx.accept(server_fd);
    client_ctx = SSL_CTX_new(TLS_client_method());
    std::string caPem = ca.pem();  // (the BIO reads it in place)
    BIO* b = BIO_new_mem_buf(caPem.data(), static_cast<int>(caPem.size()));
    X509* caCert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx), caCert);
    X509_free(caCert);
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, nullptr);
    if (sigalgs) {
      SSL_CTX_set1_sigalgs_list(client_ctx, sigalgs);
      SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION);
    }
    client = SSL_new(client_ctx);
    SSL_set_fd(client, client_fd);
    if (sni) {
      SSL_set_tlsext_host_name(client, sni);
    }
    if (alpn) {
      std::string wire(1, static_cast<char>(strlen(alpn)));
      wire += alpn;
      SSL_set_alpn_protos(client, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
    SSL_set_connect_state(client);
    bool clientDone = false, serverDone = false;
    for (int i = 0; i < 50 && !(clientDone && serverDone); ++i) {
      if (!clientDone) {
        int r = SSL_do_handshake(client);
        if (r == 1) {
          clientDone = true;
        } else {
          int e = SSL_get_error(client, r);
          if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            char buf[256];
            ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
            client_error = std::string(buf) + " (" + X509_verify_cert_error_string(SSL_get_verify_result(client)) + ")";
            ERR_clear_error();
            return false;
          }
        }
      }
      if (!serverDone) {
        auto s = server->handshake();
        if (s == net::HandshakeStatus::Failed) {
          client_error = "server: " + server->failure();
          return false;
        }
        serverDone = s == net::HandshakeStatus::Done;
      }
    }
    if (!(clientDone && serverDone)) {
      client_error = std::string("unfinished: client ") + (clientDone ? "done" : "not done") + ", server " +
                     (serverDone ? "done" : "not done");
    }
    return clientDone && serverDone;
  }
  std::string peerName() {
    X509* peer = SSL_get1_peer_certificate(client);
    char buf[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof buf);
    X509_free(peer);
    return buf;
  }
  void TearDown() override {
    server.reset();
    if (client) SSL_free(client);
    if (client_ctx) SSL_CTX_free(client_ctx);
    if (server_fd >= 0) ::close(server_fd);
    if (client_fd >= 0) ::close(client_fd);
    client = nullptr;
    client_ctx = nullptr;
    server_fd = client_fd = -1;
  }

  test::ScratchDir dir;
  testcerts::TestCa ca;
  config::ListenerTls tls;
  std::string client_error;  // why connect() failed
  int server_fd = -1, client_fd = -1;
  std::unique_ptr<net::Transport> server;
  SSL_CTX* client_ctx = nullptr;
  SSL* client = nullptr;
};

}  // namespace

TEST_F(TlsTransportTest, SniChoosesTheCertificateExactThenWildcardElseTheDefault) {
  auto ctx = build();
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->groupFor("a.test"), 1);
  EXPECT_EQ(ctx->groupFor("x.wild.test"), 2);
  EXPECT_EQ(ctx->groupFor("y.x.wild.test"), -1) << "a wildcard covers one label";
  ASSERT_TRUE(connect(*ctx, "a.test")) << client_error;
  EXPECT_EQ(peerName(), "a.test");
  TearDown();
  ASSERT_TRUE(connect(*ctx, "X.Wild.Test"));
  EXPECT_EQ(peerName(), "*.wild.test") << "names compare in lower case";
  TearDown();
  ASSERT_TRUE(connect(*ctx, "unknown.test"));
  EXPECT_EQ(peerName(), "d.test") << "the first certificate is the default";
  TearDown();
  ASSERT_TRUE(connect(*ctx, nullptr));
  EXPECT_EQ(peerName(), "d.test") << "no SNI: the default";
}

TEST_F(TlsTransportTest, AnUnknownNameIsRefusedWhenTheListenerSaysSo) {
  tls.refuse_unknown_sni = true;
  auto ctx = build();
  ASSERT_TRUE(ctx);
  EXPECT_FALSE(connect(*ctx, "unknown.test"));
  EXPECT_NE(static_cast<const tls::TlsTransport&>(*server).failure(), "");
}

TEST_F(TlsTransportTest, EcdsaAndRsaServeTheSameNamesAndTheClientsAlgorithmsDecide) {
  auto ctx = build();
  ASSERT_TRUE(ctx);
  ASSERT_TRUE(connect(*ctx, "a.test", nullptr, "RSA+SHA256:rsa_pss_rsae_sha256"));
  X509* peer = SSL_get1_peer_certificate(client);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(peer)), EVP_PKEY_RSA);
  X509_free(peer);
  TearDown();
  ASSERT_TRUE(connect(*ctx, "a.test", nullptr, "ECDSA+SHA256"));
  peer = SSL_get1_peer_certificate(client);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(peer)), EVP_PKEY_EC);
  X509_free(peer);
}

TEST_F(TlsTransportTest, TwoCertificatesOfOneKeyTypeForTheSameNamesAreAConfigError) {
  add("a-ec2", {"a.test"}, testcerts::Key::Ecdsa);
  std::string error;
  EXPECT_FALSE(tls::ServerContext::build(tls, static_cast<int64_t>(std::time(nullptr)), error));
  EXPECT_NE(error.find("test.yaml:2:3: listeners[0].tls.certificates[4]"), std::string::npos) << error;
  EXPECT_NE(error.find("same key type"), std::string::npos) << error;
}

TEST_F(TlsTransportTest, AlpnSelectsHttp11AndPlaintextFlowsBothWays) {
  auto ctx = build();
  ASSERT_TRUE(ctx);
  ASSERT_TRUE(connect(*ctx, "a.test", "http/1.1"));
  auto& t = static_cast<tls::TlsTransport&>(*server);
  EXPECT_EQ(t.alpn(), "http/1.1");
  EXPECT_EQ(t.version(), "TLSv1.3");
  EXPECT_FALSE(t.spliceable());
  EXPECT_FALSE(t.shortReadMeansEmpty());
  ASSERT_EQ(SSL_write(client, "GET / HTTP/1.1\r\n\r\n", 18), 18);
  uint8_t buf[64];
  auto r = t.read(buf, sizeof buf);
  ASSERT_EQ(r.status, net::IoStatus::Ok);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), r.bytes), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(t.read(buf, sizeof buf).status, net::IoStatus::WouldBlock);
  auto w = t.write2(reinterpret_cast<const uint8_t*>("HEAD"), 4, reinterpret_cast<const uint8_t*>("body"), 4);
  ASSERT_EQ(w.status, net::IoStatus::Ok);
  EXPECT_EQ(w.bytes, 8u);
  char got[16] = {};
  EXPECT_EQ(SSL_read(client, got, sizeof got), 8) << "head and body in one record";
  EXPECT_EQ(std::string(got, 8), "HEADbody");
}

TEST_F(TlsTransportTest, BytesDecryptedPastTheReadAreAnnouncedAsBuffered) {
  auto ctx = build();
  ASSERT_TRUE(ctx);
  ASSERT_TRUE(connect(*ctx, "a.test"));
  std::string record(100, 'x');
  ASSERT_EQ(SSL_write(client, record.data(), 100), 100);
  uint8_t buf[40];
  auto r = server->read(buf, sizeof buf);
  ASSERT_EQ(r.status, net::IoStatus::Ok);
  EXPECT_EQ(r.bytes, 40u);
  EXPECT_TRUE(server->hasBufferedInput()) << "60 bytes of the record are inside OpenSSL: no edge will say so";
}

TEST_F(TlsTransportTest, ShutdownWriteSendsCloseNotifyAndTheClientsIsEof) {
  auto ctx = build();
  ASSERT_TRUE(ctx);
  ASSERT_TRUE(connect(*ctx, "a.test"));
  server->shutdownWrite();
  char got[8];
  EXPECT_EQ(SSL_read(client, got, sizeof got), 0);
  EXPECT_EQ(SSL_get_error(client, 0), SSL_ERROR_ZERO_RETURN) << "a close_notify, not a truncation";
  SSL_shutdown(client);
  uint8_t buf[8];
  EXPECT_EQ(server->read(buf, sizeof buf).status, net::IoStatus::Eof);
}

TEST_F(TlsTransportTest, GarbageInsteadOfAClientHelloFailsTheHandshakeWithAReason) {
  auto ctx = build();
  ASSERT_TRUE(ctx);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  server_fd = fds[0];
  client_fd = fds[1];
  server = ctx->accept(server_fd);
  EXPECT_EQ(server->handshake(), net::HandshakeStatus::WantRead);
  ASSERT_EQ(::write(client_fd, "GET / HTTP/1.1\r\n\r\n", 18), 18);
  EXPECT_EQ(server->handshake(), net::HandshakeStatus::Failed);
  EXPECT_NE(server->failure(), "") << "OpenSSL's reason, for the log";
}

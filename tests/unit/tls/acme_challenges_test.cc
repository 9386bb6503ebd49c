// The pending ACME challenges: HTTP-01 tokens, the TLS-ALPN-01 certificate (RFC 8737: the name
// in subjectAltName, id-pe-acmeIdentifier critical holding SHA-256 of the key authorization),
// and a listener context with acme names and no certificate yet.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "tls/acme_challenge_cert.h"
#include "tls/acme_challenges.h"
#include "tls/server_context.h"

using namespace fulcrum;
using namespace fulcrum::tls;

TEST(AcmeChallenges, HttpTokensAnswerUntilRemoved) {
  AcmeChallenges c;
  EXPECT_TRUE(c.empty());
  c.setHttp("tok1", "tok1.thumb");
  c.setHttp("tok2", "tok2.thumb");
  EXPECT_EQ(c.httpAnswer("tok1").value_or(""), "tok1.thumb");
  EXPECT_FALSE(c.httpAnswer("tok3").has_value());
  c.removeHttp("tok1");
  EXPECT_FALSE(c.httpAnswer("tok1").has_value());
  EXPECT_EQ(c.httpAnswer("tok2").value_or(""), "tok2.thumb");
  c.removeHttp("tok2");
  EXPECT_TRUE(c.empty());
}

TEST(AcmeChallenges, TheTlsAlpnCertificateCarriesTheCriticalAcmeIdentifier) {
  AcmeChallenges c;
  std::string error;
  ASSERT_TRUE(c.setAlpn("a.test", "tok.thumb", error)) << error;
  EXPECT_EQ(c.alpnCertificate("b.test"), nullptr);
  auto cert = c.alpnCertificate("a.test");
  ASSERT_NE(cert, nullptr);
  X509* x = cert->cert.get();
  EXPECT_EQ(X509_check_host(x, "a.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_private_key(x, cert->key.get()), 1);
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  int at = X509_get_ext_by_OBJ(x, oid, -1);
  ASN1_OBJECT_free(oid);
  ASSERT_GE(at, 0);
  X509_EXTENSION* ext = X509_get_ext(x, at);
  EXPECT_EQ(X509_EXTENSION_get_critical(ext), 1);
  // extnValue is the DER of an OCTET STRING of the 32-byte digest.
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>("tok.thumb"), 9, digest);
  std::string expected = std::string("\x04\x20", 2) + std::string(reinterpret_cast<char*>(digest), 32);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                        static_cast<size_t>(ASN1_STRING_length(value))),
            expected);
  c.removeAlpn("a.test");
  EXPECT_EQ(c.alpnCertificate("a.test"), nullptr);
  EXPECT_NE(cert->cert, nullptr) << "a handshake holding it keeps it";
}

TEST(AcmeChallenges, AListenerWithAcmeNamesAndNoCertificateYetHasAContext) {
  config::ListenerTls tls;
  tls.where = "test.yaml:3:5: listeners[0].tls";
  tls.alpn = {"http/1.1"};
  std::string error;
  EXPECT_EQ(ServerContext::build(tls, 0, error), nullptr);
  EXPECT_EQ(error, "test.yaml:3:5: listeners[0].tls: no certificate");
  tls.acme = {"a.test"};
  error.clear();
  ServerContext::BuildExtras extras;
  extras.challenges = std::make_shared<AcmeChallenges>();
  auto ctx = ServerContext::build(tls, 0, error, extras);
  ASSERT_NE(ctx, nullptr) << error;
  EXPECT_TRUE(ctx->certificates().empty());
}

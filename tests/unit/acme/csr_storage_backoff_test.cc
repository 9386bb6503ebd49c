// The certificate request (names in subjectAltName, the first as CN, signed by the new key),
// storage (0600 files, 0700 directories, atomic replacement, the names file), the backoff
// schedule and reading notAfter from a chain.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>

#include "../../tls_certs.h"
#include "acme/backoff.h"
#include "acme/csr.h"
#include "acme/manager.h"
#include "acme/storage.h"

using namespace fulcrum::acme;
using namespace std::chrono_literals;

namespace {

unsigned modeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

struct Scratch {
  Scratch() {
    char tmpl[] = "/tmp/fulcrum-acme-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

}  // namespace

TEST(Csr, HoldsEveryNameTheFirstAsCommonNameAndIsSignedByItsKey) {
  CertificateRequest csr;
  std::string error;
  ASSERT_TRUE(makeCertificateRequest({"a.test", "www.a.test"}, csr, error)) << error;
  const auto* p = reinterpret_cast<const unsigned char*>(csr.csr_der.data());
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.csr_der.size()));
  ASSERT_NE(req, nullptr);
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "a.test");
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  auto* sans = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(sans, nullptr);
  std::vector<std::string> names;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
    ASSERT_EQ(g->type, GEN_DNS);
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                       static_cast<size_t>(ASN1_STRING_length(g->d.dNSName)));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a.test", "www.a.test"}));
  // Signed by the key that comes with it.
  BIO* bio = BIO_new_mem_buf(csr.key_pem.data(), static_cast<int>(csr.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_REQ_verify(req, key), 1);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EVP_PKEY_free(key);
  GENERAL_NAMES_free(sans);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
  // A new key every time: a renewal never reuses one.
  CertificateRequest other;
  ASSERT_TRUE(makeCertificateRequest({"a.test"}, other, error));
  EXPECT_NE(other.key_pem, csr.key_pem);
}

TEST(Storage, FilesAre0600DirectoriesAre0700AndAWriteReplacesWhole) {
  Scratch s;
  Storage storage(s.path + "/acme");
  std::string error;
  std::vector<std::string> names{"a.test", "b.test"};
  EXPECT_FALSE(storage.hasCertificate(names));
  ASSERT_TRUE(storage.saveCertificate(names, "CHAIN1", "KEY1", error)) << error;
  EXPECT_TRUE(storage.hasCertificate(names));
  EXPECT_FALSE(storage.hasCertificate({"a.test"})) << "another set of names is not this certificate";
  EXPECT_EQ(storage.certPath(names), s.path + "/acme/certificates/a.test/cert.pem");
  EXPECT_EQ(modeOf(storage.certPath(names)), 0600u);
  EXPECT_EQ(modeOf(storage.keyPath(names)), 0600u);
  EXPECT_EQ(modeOf(s.path + "/acme"), 0700u);
  EXPECT_EQ(modeOf(s.path + "/acme/certificates/a.test"), 0700u);
  ASSERT_TRUE(storage.saveCertificate(names, "CHAIN2", "KEY2", error)) << error;
  EXPECT_EQ(*Storage::readFile(storage.certPath(names), error), "CHAIN2");
  EXPECT_EQ(*Storage::readFile(storage.keyPath(names), error), "KEY2");
  EXPECT_FALSE(std::filesystem::exists(storage.certPath(names) + ".tmp"));
  // A file another process made wider is narrowed when written again.
  ::chmod(storage.accountKeyPath().c_str(), 0644);
  ASSERT_TRUE(Storage::writeFileAtomic(storage.accountKeyPath(), "K", error));
  EXPECT_EQ(modeOf(storage.accountKeyPath()), 0600u);
  EXPECT_FALSE(Storage::readFile(s.path + "/none", error).has_value());
  EXPECT_TRUE(error.empty()) << "a missing file is no error: " << error;
  EXPECT_FALSE(Storage::writeFileAtomic("/proc/none/x", "K", error));
  EXPECT_FALSE(error.empty());
}

TEST(Backoff, DoublesFromMinAndStaysAtMax) {
  Backoff b(1s, 60s);
  EXPECT_EQ(b.delay(1), 1s);
  EXPECT_EQ(b.delay(2), 2s);
  EXPECT_EQ(b.delay(3), 4s);
  EXPECT_EQ(b.delay(6), 32s);
  EXPECT_EQ(b.delay(7), 60s);
  EXPECT_EQ(b.delay(1000), 60s) << "no overflow after many failures";
  Backoff flat(5s, 5s);
  EXPECT_EQ(flat.delay(4), 5s);
}

TEST(Manager, NotAfterOfAChainAndTheNameSetsOfAConfig) {
  testcerts::TestCa ca;
  auto pem = ca.issue({"a.test"}, testcerts::Key::Ecdsa, -3600, 86400L * 10);
  int64_t notAfter = pemNotAfter(pem.cert + ca.pem());
  int64_t expected = static_cast<int64_t>(::time(nullptr)) + 86400L * 10;
  EXPECT_NEAR(static_cast<double>(notAfter), static_cast<double>(expected), 5.0);
  EXPECT_EQ(pemNotAfter("garbage"), 0);

  fulcrum::config::Config c;
  c.listeners.resize(3);
  c.listeners[0].tls.acme = {"a.test"};
  c.listeners[2].tls.acme = {"a.test"};
  c.listeners[1].tls.acme = {"b.test", "c.test"};
  EXPECT_EQ(nameSets(c), (std::vector<std::vector<std::string>>{{"a.test"}, {"b.test", "c.test"}}));
}

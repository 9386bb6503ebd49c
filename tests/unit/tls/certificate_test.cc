// Certificate: PEM chain and key read and checked, names from the subjectAltName, and the
// errors a person can act on (file and reason).
#include "tls/certificate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>

#include "../../tls_certs.h"
#include "scratch_dir.h"

using namespace fulcrum;

namespace {

using Files = test::ScratchDir;

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

TEST(Certificate, NamesComeFromTheSubjectAltNameInLowerCase) {
  Files f;
  testcerts::TestCa ca;
  auto pem = ca.issue({"Www.Example.test", "*.api.example.test"});
  std::string error;
  auto c = tls::Certificate::load(f.put("c.pem", pem.cert + ca.pem()), f.put("k.pem", pem.key), now(), error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->names(), (std::vector<std::string>{"www.example.test", "*.api.example.test"}));
  EXPECT_EQ(c->keyType(), tls::KeyType::Ecdsa);
  EXPECT_GT(c->notAfter(), now() + 86400 * 29);
}

TEST(Certificate, WithoutASubjectAltNameTheCommonNameServes) {
  Files f;
  testcerts::TestCa ca;
  auto pem = ca.issue({"legacy.test"}, testcerts::Key::Rsa, -3600, 86400, false);
  std::string error;
  auto c = tls::Certificate::load(f.put("c.pem", pem.cert), f.put("k.pem", pem.key), now(), error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->names(), std::vector<std::string>{"legacy.test"});
  EXPECT_EQ(c->keyType(), tls::KeyType::Rsa);
}

TEST(Certificate, AKeyThatDoesNotMatchIsRefusedNamingBothFiles) {
  Files f;
  testcerts::TestCa ca;
  auto a = ca.issue({"a.test"});
  auto b = ca.issue({"b.test"});
  std::string error;
  auto c = tls::Certificate::load(f.put("a.pem", a.cert), f.put("b.key", b.key), now(), error);
  EXPECT_FALSE(c);
  EXPECT_NE(error.find("b.key: the key does not match the certificate in"), std::string::npos) << error;
  EXPECT_NE(error.find("a.pem"), std::string::npos) << error;
}

TEST(Certificate, ExpiredOrNotYetValidIsRefusedWithTheDate) {
  Files f;
  testcerts::TestCa ca;
  auto old = ca.issue({"old.test"}, testcerts::Key::Ecdsa, -86400 * 10, -86400);
  std::string error;
  EXPECT_FALSE(tls::Certificate::load(f.put("old.pem", old.cert), f.put("old.key", old.key), now(), error));
  EXPECT_NE(error.find("the certificate expired on 20"), std::string::npos) << error;
  auto future = ca.issue({"new.test"}, testcerts::Key::Ecdsa, 86400, 86400 * 10);
  EXPECT_FALSE(tls::Certificate::load(f.put("new.pem", future.cert), f.put("new.key", future.key), now(), error));
  EXPECT_NE(error.find("not valid before"), std::string::npos) << error;
}

TEST(Certificate, MissingOrGarbageFilesSayWhich) {
  Files f;
  std::string error;
  EXPECT_FALSE(tls::Certificate::load(f.path + "/none.pem", f.path + "/none.key", now(), error));
  EXPECT_NE(error.find("none.pem: cannot read the certificate file"), std::string::npos) << error;
  EXPECT_FALSE(tls::Certificate::load(f.put("junk.pem", "not a certificate\n"), f.path + "/none.key", now(), error));
  EXPECT_NE(error.find("junk.pem: no PEM certificate in it"), std::string::npos) << error;
  testcerts::TestCa ca;
  auto pem = ca.issue({"a.test"});
  EXPECT_FALSE(tls::Certificate::load(f.put("a.pem", pem.cert), f.put("junk.key", "-----BEGIN nothing\n"), now(), error));
  EXPECT_NE(error.find("junk.key: no PEM private key in it"), std::string::npos) << error;
}

TEST(Certificate, AWildcardCoversExactlyOneLabel) {
  EXPECT_TRUE(tls::nameMatches("*.example.test", "a.example.test"));
  EXPECT_FALSE(tls::nameMatches("*.example.test", "a.b.example.test"));
  EXPECT_FALSE(tls::nameMatches("*.example.test", "example.test"));
  EXPECT_FALSE(tls::nameMatches("*.example.test", ".example.test"));
  EXPECT_TRUE(tls::nameMatches("exact.test", "exact.test"));
  EXPECT_FALSE(tls::nameMatches("exact.test", "other.test"));
}

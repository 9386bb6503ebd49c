// OcspStaple: a response is checked for its certificate, its status and its validity when read,
// with the file and the reason when it cannot serve; one that expires while serving stops
// being stapled, once. Responses are made here with OpenSSL, signed by the test CA.
#include "tls/ocsp.h"

#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <ctime>

#include "../../tls_certs.h"
#include "scratch_dir.h"
#include "tls/certificate.h"
#include "tls/certificate_data.h"

using namespace fulcrum;

namespace {

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

struct Site {
  test::ScratchDir dir;
  testcerts::TestCa ca;
  testcerts::Pem pem = ca.issue({"site.test"});
  std::shared_ptr<const tls::Certificate> cert;
  Site() {
    std::string error;
    // The chain file holds the issuer: the match checks its key hash too.
    cert = tls::Certificate::load(dir.put("site.pem", pem.cert + ca.pem()), dir.put("site.key", pem.key), now(), error);
  }
  std::shared_ptr<tls::OcspStaple> load(const std::string& der, std::string& error) {
    return tls::OcspStaple::load(dir.put("site.ocsp", der), cert->data(), now(), error);
  }
};

}  // namespace

TEST(OcspStaple, AGoodCurrentResponseForTheCertificateIsKeptAndStopsBeingStapledOnceExpired) {
  Site s;
  ASSERT_TRUE(s.cert);
  std::string error;
  auto staple = s.load(testcerts::ocspResponse(s.ca, s.pem.cert, V_OCSP_CERTSTATUS_GOOD, -60, 3600), error);
  ASSERT_TRUE(staple) << error;
  EXPECT_TRUE(staple->live());
  EXPECT_FALSE(staple->der().empty());
  EXPECT_NEAR(staple->nextUpdate(), now() + 3600, 5);
  EXPECT_FALSE(staple->expireIfDue(now()));
  EXPECT_TRUE(staple->expireIfDue(now() + 3600)) << "at nextUpdate: no longer stapled";
  EXPECT_FALSE(staple->live());
  EXPECT_FALSE(staple->expireIfDue(now() + 3601)) << "said once";
}

TEST(OcspStaple, AResponseThatCannotServeSaysWhyWithTheFile) {
  Site s;
  ASSERT_TRUE(s.cert);
  std::string error;
  auto other = s.ca.issue({"other.test"});
  EXPECT_FALSE(s.load(testcerts::ocspResponse(s.ca, other.cert, V_OCSP_CERTSTATUS_GOOD, -60, 3600), error));
  EXPECT_NE(error.find("site.ocsp: the response is for another certificate"), std::string::npos) << error;
  EXPECT_FALSE(s.load(testcerts::ocspResponse(s.ca, s.pem.cert, V_OCSP_CERTSTATUS_REVOKED, -60, 3600), error));
  EXPECT_NE(error.find("the certificate's status is revoked, not good"), std::string::npos) << error;
  EXPECT_FALSE(s.load(testcerts::ocspResponse(s.ca, s.pem.cert, V_OCSP_CERTSTATUS_UNKNOWN, -60, 3600), error));
  EXPECT_NE(error.find("status is unknown"), std::string::npos) << error;
  EXPECT_FALSE(s.load(testcerts::ocspResponse(s.ca, s.pem.cert, V_OCSP_CERTSTATUS_GOOD, -7200, -3600), error));
  EXPECT_NE(error.find("the response expired on"), std::string::npos) << error;
  EXPECT_FALSE(s.load(testcerts::ocspResponse(s.ca, s.pem.cert, V_OCSP_CERTSTATUS_GOOD, 3600, 7200), error));
  EXPECT_NE(error.find("the response is not valid before"), std::string::npos) << error;
  EXPECT_FALSE(s.load(testcerts::ocspResponse(s.ca, s.pem.cert, 0, 0, 0, OCSP_RESPONSE_STATUS_TRYLATER), error));
  EXPECT_NE(error.find("the responder answered \"trylater\""), std::string::npos) << error;
  EXPECT_FALSE(s.load("-----BEGIN OCSP-----\n", error));
  EXPECT_NE(error.find("site.ocsp: not a DER OCSP response"), std::string::npos) << error;
  EXPECT_FALSE(tls::OcspStaple::load("/nonexistent/x.ocsp", s.cert->data(), now(), error));
  EXPECT_NE(error.find("/nonexistent/x.ocsp: cannot read the OCSP response file"), std::string::npos) << error;
}

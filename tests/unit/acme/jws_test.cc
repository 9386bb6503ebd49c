// The account key's JWK, thumbprint and ES256 JWS: the JWK's members against the public point
// OpenSSL encodes, signatures (r || s) checked by OpenSSL's own verifier, the protected header's members, base64url
// against RFC 4648's vectors.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "acme/account_key.h"
#include "acme/base64url.h"

using namespace fulcrum::acme;

namespace {

std::string unb64url(std::string s) {
  for (char& c : s) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (s.size() % 4 != 0) {
    s += '=';
  }
  std::string out(s.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n) - (s.ends_with("==") ? 2 : s.ends_with("=") ? 1 : 0));
  return out;
}

// A fresh P-256 key as PEM, and its public point as OpenSSL encodes it (04 || x || y).
std::string freshKey(std::string& point) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  unsigned char buf[65];
  size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf, &len);
  point.assign(reinterpret_cast<char*>(buf), len);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  std::string pem(p, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

// OpenSSL verifies `raw` (r || s) over `input` with the key in `pem`.
bool verifies(const std::string& pem, const std::string& input, const std::string& raw) {
  if (raw.size() != 64) {
    return false;
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int derLen = i2d_ECDSA_SIG(sig, &der);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, der, static_cast<size_t>(derLen), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

TEST(Base64Url, Rfc4648VectorsWithoutPaddingAndTheUrlAlphabet) {
  EXPECT_EQ(base64url(""), "");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(base64url("foo"), "Zm9v");
  EXPECT_EQ(base64url("foob"), "Zm9vYg");
  EXPECT_EQ(base64url("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url(std::string("\xfb\xff\xfe", 3)), "-__-");
}

TEST(AccountKey, TheJwkHasTheRfc7638MemberOrderAndThePublicPointAndItsThumbprint) {
  std::string error;
  std::string point;
  const std::string pem = freshKey(point);
  auto key = AccountKey::fromPem(pem, error);
  ASSERT_TRUE(key) << error;
  ASSERT_EQ(point.size(), 65u);
  EXPECT_EQ(key->jwk(), R"({"crv":"P-256","kty":"EC","x":")" + base64url(point.substr(1, 32)) + R"(","y":")" +
                            base64url(point.substr(33, 32)) + R"("})");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key->jwk().data()), key->jwk().size(), digest);
  EXPECT_EQ(key->thumbprint(), base64url({reinterpret_cast<char*>(digest), sizeof digest}));
  EXPECT_EQ(key->thumbprint().size(), 43u);
}

TEST(AccountKey, Es256SignaturesVerifyWithOpenSsl) {
  std::string error;
  std::string point;
  const std::string pem = freshKey(point);
  auto key = AccountKey::fromPem(pem, error);
  ASSERT_TRUE(key) << error;
  for (const std::string& input : std::vector<std::string>{"", "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UifQ", std::string(5000, 'x')}) {
    std::string sig = key->es256(input);
    EXPECT_EQ(sig.size(), 64u);
    EXPECT_TRUE(verifies(pem, input, sig)) << input.size();
    EXPECT_FALSE(verifies(pem, input + "!", sig));
  }
}

TEST(AccountKey, AJwsCarriesJwkOrKidNonceAndUrlAndItsSignatureVerifies) {
  std::string error;
  auto key = AccountKey::generate(error);
  ASSERT_TRUE(key) << error;
  auto jws = nlohmann::json::parse(key->sign("https://ca/new-acct", "n0nce", "", R"({"a":1})"));
  auto header = nlohmann::json::parse(unb64url(jws["protected"].get<std::string>()));
  EXPECT_EQ(header["alg"], "ES256");
  EXPECT_EQ(header["nonce"], "n0nce");
  EXPECT_EQ(header["url"], "https://ca/new-acct");
  EXPECT_EQ(header["jwk"].dump(), key->jwk());
  EXPECT_FALSE(header.contains("kid"));
  EXPECT_EQ(unb64url(jws["payload"].get<std::string>()), R"({"a":1})");
  EXPECT_TRUE(verifies(key->pem(), jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>(),
                       unb64url(jws["signature"].get<std::string>())));

  auto asGet = nlohmann::json::parse(key->sign("https://ca/order/1", "n2", "https://ca/acct/7", ""));
  auto h2 = nlohmann::json::parse(unb64url(asGet["protected"].get<std::string>()));
  EXPECT_EQ(h2["kid"], "https://ca/acct/7");
  EXPECT_FALSE(h2.contains("jwk"));
  EXPECT_EQ(asGet["payload"], "") << "POST-as-GET has an empty payload";
}

TEST(AccountKey, APemRoundTripKeepsTheKeyAndOtherKeysAreRefused) {
  std::string error;
  auto key = AccountKey::generate(error);
  ASSERT_TRUE(key);
  auto again = AccountKey::fromPem(key->pem(), error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->jwk(), key->jwk());
  EXPECT_FALSE(AccountKey::fromPem("not a key", error));
  EXPECT_NE(error.find("not a PEM private key"), std::string::npos) << error;
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, rsa, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  std::string rsaPem(p, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(rsa);
  EXPECT_FALSE(AccountKey::fromPem(rsaPem, error));
  EXPECT_EQ(error, "the account key is not an ECDSA P-256 key");
}

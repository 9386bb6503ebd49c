#include "acme/account_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "acme/base64url.h"
#include "tls/openssl_util.h"

namespace fulcrum::acme {

struct AccountKeyData {
  tls::PkeyPtr key;
};

AccountKey::AccountKey() : data_(std::make_unique<AccountKeyData>()) {}
AccountKey::~AccountKey() = default;

std::unique_ptr<AccountKey> AccountKey::generate(std::string& error) {
  std::unique_ptr<AccountKey> k(new AccountKey());
  k->data_->key.reset(EVP_EC_gen("P-256"));
  if (!k->data_->key) {
    error = "cannot make an account key: " + tls::drainErrors();
    return nullptr;
  }
  return k->init(error) ? std::move(k) : nullptr;
}

std::unique_ptr<AccountKey> AccountKey::fromPem(const std::string& pem, std::string& error) {
  std::unique_ptr<AccountKey> k(new AccountKey());
  tls::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  k->data_->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!k->data_->key) {
    error = "not a PEM private key: " + tls::drainErrors();
    return nullptr;
  }
  return k->init(error) ? std::move(k) : nullptr;
}

bool AccountKey::init(std::string& error) {
  EVP_PKEY* key = data_->key.get();
  char curve[64] = {};
  size_t curveLen = 0;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &curveLen) != 1 ||
      std::string_view(curve) != "prime256v1") {
    ERR_clear_error();
    error = "the account key is not an ECDSA P-256 key";
    return false;
  }
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
      EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
    BN_free(x);
    BN_free(y);
    error = "cannot read the account key's public point: " + tls::drainErrors();
    return false;
  }
  unsigned char xb[32];
  unsigned char yb[32];
  BN_bn2binpad(x, xb, 32);
  BN_bn2binpad(y, yb, 32);
  BN_free(x);
  BN_free(y);
  jwk_ = R"({"crv":"P-256","kty":"EC","x":")" + base64url({reinterpret_cast<char*>(xb), 32}) + R"(","y":")" +
         base64url({reinterpret_cast<char*>(yb), 32}) + R"("})";
  return true;
}

std::string AccountKey::pem() const {
  tls::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), data_->key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

std::string AccountKey::thumbprint() const {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(jwk_.data()), jwk_.size(), digest);
  return base64url({reinterpret_cast<char*>(digest), sizeof digest});
}

std::string AccountKey::es256(std::string_view input) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::string der(80, '\0');
  size_t derLen = der.size();
  bool ok = md != nullptr && EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, data_->key.get()) == 1 &&
            EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &derLen,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) {
    ERR_clear_error();
    return {};
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(derLen));
  if (sig == nullptr) {
    ERR_clear_error();
    return {};
  }
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

std::string AccountKey::sign(std::string_view url, std::string_view nonce, std::string_view kid,
                             std::string_view payload) const {
  nlohmann::json header = {{"alg", "ES256"}, {"nonce", nonce}, {"url", url}};
  if (kid.empty()) {
    header["jwk"] = nlohmann::json::parse(jwk_);
  } else {
    header["kid"] = kid;
  }
  std::string protectedB64 = base64url(header.dump());
  std::string payloadB64 = base64url(payload);
  std::string sig = es256(protectedB64 + "." + payloadB64);
  if (sig.empty()) {
    return {};
  }
  nlohmann::json jws = {{"protected", protectedB64}, {"payload", payloadB64}, {"signature", base64url(sig)}};
  return jws.dump();
}

}  // namespace fulcrum::acme

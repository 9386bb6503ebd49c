#pragma once
// AccountKey: the ACME account's ECDSA P-256 key and what RFC 8555 makes of it: the JWK, its
// thumbprint (RFC 7638, for key authorizations) and ES256 JWS signatures (RFC 7515) of
// requests. Kept on disk as PKCS#8 PEM (storage.h).
#include <memory>
#include <string>
#include <string_view>

namespace fulcrum::acme {

struct AccountKeyData;  // OpenSSL objects (account_key.cc)

class AccountKey {
 public:
  // A new random key; null with `error` when OpenSSL fails.
  static std::unique_ptr<AccountKey> generate(std::string& error);
  // From PEM text; null with `error` when it is not a P-256 private key.
  static std::unique_ptr<AccountKey> fromPem(const std::string& pem, std::string& error);
  ~AccountKey();

  std::string pem() const;  // PKCS#8 private key
  // {"crv":"P-256","kty":"EC","x":"...","y":"..."}: members in lexicographic order, no
  // spaces, which is also the thumbprint's input (RFC 7638 section 3).
  const std::string& jwk() const { return jwk_; }
  // base64url(SHA-256(jwk())).
  std::string thumbprint() const;
  // A flattened JWS JSON object for `url`: with `kid` (the account URL) or, when empty, the
  // JWK (newAccount); `payload` empty means POST-as-GET. Empty on a signing failure.
  std::string sign(std::string_view url, std::string_view nonce, std::string_view kid, std::string_view payload) const;
  // ES256 of `input`: r || s, 32 bytes each (RFC 7518 section 3.4), not DER.
  std::string es256(std::string_view input) const;

 private:
  AccountKey();
  std::unique_ptr<AccountKeyData> data_;
  std::string jwk_;
  bool init(std::string& error);
};

}  // namespace fulcrum::acme

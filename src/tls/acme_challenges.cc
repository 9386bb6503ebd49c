#include "tls/acme_challenges.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "tls/acme_challenge_cert.h"

namespace fulcrum::tls {

AcmeChallenges::AcmeChallenges() : table_(std::make_shared<const Table>()) {}
AcmeChallenges::~AcmeChallenges() = default;

template <typename F>
void AcmeChallenges::update(F&& change) {
  std::lock_guard lock(writers_);
  auto next = std::make_shared<Table>(*load());
  change(*next);
  table_.store(std::move(next), std::memory_order_release);
}

void AcmeChallenges::setHttp(const std::string& token, const std::string& keyAuthorization) {
  update([&](Table& t) { t.http[token] = keyAuthorization; });
}

void AcmeChallenges::removeHttp(const std::string& token) {
  update([&](Table& t) { t.http.erase(token); });
}

bool AcmeChallenges::setAlpn(const std::string& name, const std::string& keyAuthorization, std::string& error) {
  auto cert = makeAlpnChallengeCert(name, keyAuthorization, error);
  if (!cert) {
    return false;
  }
  update([&](Table& t) { t.alpn[name] = std::move(cert); });
  return true;
}

void AcmeChallenges::removeAlpn(const std::string& name) {
  update([&](Table& t) { t.alpn.erase(name); });
}

std::optional<std::string> AcmeChallenges::httpAnswer(std::string_view token) const {
  auto t = load();
  if (auto it = t->http.find(token); it != t->http.end()) {
    return it->second;
  }
  return std::nullopt;
}

std::shared_ptr<const AlpnChallengeCert> AcmeChallenges::alpnCertificate(const std::string& name) const {
  auto t = load();
  if (auto it = t->alpn.find(name); it != t->alpn.end()) {
    return it->second;
  }
  return nullptr;
}

bool AcmeChallenges::empty() const {
  auto t = load();
  return t->http.empty() && t->alpn.empty();
}

std::shared_ptr<const AlpnChallengeCert> makeAlpnChallengeCert(const std::string& name,
                                                               const std::string& keyAuthorization,
                                                               std::string& error) {
  auto out = std::make_shared<AlpnChallengeCert>();
  out->key.reset(EVP_EC_gen("P-256"));
  out->cert.reset(X509_new());
  X509* x = out->cert.get();
  if (!out->key || !x) {
    error = "cannot make a TLS-ALPN-01 certificate: " + drainErrors();
    return nullptr;
  }
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400L);
  X509_set_pubkey(x, out->key.get());
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, subject);
  // subjectAltName: the one name being validated.
  GENERAL_NAMES* names = GENERAL_NAMES_new();
  GENERAL_NAME* dns = GENERAL_NAME_new();
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  ASN1_STRING_set(ia5, name.data(), static_cast<int>(name.size()));
  GENERAL_NAME_set0_value(dns, GEN_DNS, ia5);
  sk_GENERAL_NAME_push(names, dns);
  X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT);
  GENERAL_NAMES_free(names);
  // id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31), critical: an OCTET STRING holding the SHA-256
  // of the key authorization (RFC 8737 section 3).
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(keyAuthorization.data()), keyAuthorization.size(), digest);
  ASN1_OCTET_STRING* inner = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(inner, digest, sizeof digest);
  unsigned char* der = nullptr;
  int derLen = i2d_ASN1_OCTET_STRING(inner, &der);
  ASN1_OCTET_STRING_free(inner);
  ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(value, der, derLen);
  OPENSSL_free(der);
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 1, value);
  ASN1_OBJECT_free(oid);
  ASN1_OCTET_STRING_free(value);
  bool ok = ext != nullptr && X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  if (!ok || X509_sign(x, out->key.get(), EVP_sha256()) == 0) {
    error = "cannot make a TLS-ALPN-01 certificate: " + drainErrors();
    return nullptr;
  }
  return out;
}

}  // namespace fulcrum::tls

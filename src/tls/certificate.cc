#include "tls/certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/host_name.h"
#include "tls/certificate_data.h"

namespace fulcrum::tls {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

int64_t toUnix(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
    return 0;
  }
  return static_cast<int64_t>(timegm(&tm));
}

std::string isoDate(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::vector<std::string> dnsNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS) {
        const auto* s = n->d.dNSName;
        names.push_back(lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                          static_cast<size_t>(ASN1_STRING_length(s)))));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    // No DNS names in a subjectAltName: the common name, as older certificates have it.
    X509_NAME* subject = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (i >= 0) {
      const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
      names.push_back(lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                        static_cast<size_t>(ASN1_STRING_length(s)))));
    }
  }
  return names;
}

}  // namespace

Certificate::~Certificate() = default;

std::shared_ptr<const Certificate> Certificate::load(const std::string& certFile, const std::string& keyFile,
                                                     int64_t nowSeconds, std::string& error) {
  ERR_clear_error();
  auto data = std::make_unique<CertificateData>();
  BioPtr certBio(BIO_new_file(certFile.c_str(), "r"));
  if (!certBio) {
    error = certFile + ": cannot read the certificate file: " + drainErrors();
    return nullptr;
  }
  data->leaf.reset(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
  if (!data->leaf) {
    error = certFile + ": no PEM certificate in it (" + drainErrors() + ")";
    return nullptr;
  }
  while (X509* next = PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr)) {
    data->chain.emplace_back(next);
  }
  ERR_clear_error();  // (the end of the file ends the loop with an error queued)
  BioPtr keyBio(BIO_new_file(keyFile.c_str(), "r"));
  if (!keyBio) {
    error = keyFile + ": cannot read the key file: " + drainErrors();
    return nullptr;
  }
  data->key.reset(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
  if (!data->key) {
    error = keyFile + ": no PEM private key in it, or one protected by a passphrase (" + drainErrors() + ")";
    return nullptr;
  }
  if (X509_check_private_key(data->leaf.get(), data->key.get()) != 1) {
    ERR_clear_error();
    error = keyFile + ": the key does not match the certificate in " + certFile;
    return nullptr;
  }
  std::shared_ptr<Certificate> cert(new Certificate());
  cert->not_after_ = toUnix(X509_get0_notAfter(data->leaf.get()));
  int64_t notBefore = toUnix(X509_get0_notBefore(data->leaf.get()));
  if (cert->not_after_ <= nowSeconds) {
    error = certFile + ": the certificate expired on " + isoDate(cert->not_after_);
    return nullptr;
  }
  if (notBefore > nowSeconds) {
    error = certFile + ": the certificate is not valid before " + isoDate(notBefore);
    return nullptr;
  }
  cert->names_ = dnsNames(data->leaf.get());
  if (cert->names_.empty()) {
    error = certFile + ": the certificate names no DNS name (no subjectAltName DNS entry and no common name)";
    return nullptr;
  }
  int id = EVP_PKEY_get_base_id(data->key.get());
  cert->key_type_ = id == EVP_PKEY_RSA ? KeyType::Rsa : id == EVP_PKEY_EC ? KeyType::Ecdsa : KeyType::Other;
  cert->cert_file_ = certFile;
  cert->data_ = std::move(data);
  return cert;
}

bool nameMatches(const std::string& pattern, const std::string& name) { return hostNameMatches(pattern, name); }

}  // namespace fulcrum::tls

#include "acme/csr.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/openssl_util.h"

namespace fulcrum::acme {

bool makeCertificateRequest(const std::vector<std::string>& names, CertificateRequest& out, std::string& error) {
  tls::PkeyPtr key(EVP_EC_gen("P-256"));
  X509_REQ* req = X509_REQ_new();
  auto fail = [&](const char* what) {
    error = std::string(what) + ": " + tls::drainErrors();
    X509_REQ_free(req);
    return false;
  };
  if (!key || req == nullptr) {
    return fail("cannot make a certificate key");
  }
  X509_REQ_set_version(req, 0);
  X509_NAME* subject = X509_REQ_get_subject_name(req);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(names[0].c_str()),
                             -1, -1, 0);
  X509_REQ_set_pubkey(req, key.get());
  GENERAL_NAMES* sans = GENERAL_NAMES_new();
  for (const auto& name : names) {
    GENERAL_NAME* dns = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    ASN1_STRING_set(ia5, name.data(), static_cast<int>(name.size()));
    GENERAL_NAME_set0_value(dns, GEN_DNS, ia5);
    sk_GENERAL_NAME_push(sans, dns);
  }
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans);
  GENERAL_NAMES_free(sans);
  if (ext == nullptr) {
    sk_X509_EXTENSION_free(exts);
    return fail("cannot make the subjectAltName");
  }
  sk_X509_EXTENSION_push(exts, ext);
  int added = X509_REQ_add_extensions(req, exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (added != 1 || X509_REQ_sign(req, key.get(), EVP_sha256()) == 0) {
    return fail("cannot sign the certificate request");
  }
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req, &der);
  if (n <= 0) {
    return fail("cannot encode the certificate request");
  }
  out.csr_der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  X509_REQ_free(req);
  tls::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long len = BIO_get_mem_data(bio.get(), &p);
  out.key_pem.assign(p, static_cast<size_t>(len));
  return true;
}

}  // namespace fulcrum::acme

#pragma once
// Certificates for tests, made with OpenSSL at test time (nothing checked in that expires): a
// test CA and leaf certificates it signs, with the DNS names, key type and validity a test
// asks for, as PEM text to write where the config points.
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace testcerts {

enum class Key { Ecdsa, Rsa };

struct Pem {
  std::string cert;
  std::string key;
};

inline std::string toPem(X509* x) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

inline std::string toPem(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

inline EVP_PKEY* makeKey(Key kind) { return kind == Key::Rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"); }

inline void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) {
    throw std::runtime_error("cannot make extension " + value);
  }
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A CA that signs leaf certificates; its PEM is what clients are given (--cacert).
class TestCa {
 public:
  explicit TestCa(const std::string& name = "Fulcrum Test CA") {
    key_ = makeKey(Key::Ecdsa);
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 86400L * 365);
    X509_set_pubkey(cert_, key_);
    X509_NAME* n = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert_, n);
    addExt(cert_, cert_, NID_basic_constraints, "critical,CA:TRUE");
    addExt(cert_, cert_, NID_key_usage, "critical,keyCertSign,cRLSign");
    X509_sign(cert_, key_, EVP_sha256());
  }
  ~TestCa() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  std::string pem() const { return toPem(cert_); }
  std::string keyPem() const { return toPem(key_); }  // to sign with the openssl CLI (OCSP responses)
  // The serial number of the last certificate issue() made (for a CRL).
  long lastSerial() const { return serial_; }

  // A CRL of this CA (valid from an hour ago for a day) revoking these serial numbers, as PEM.
  std::string crl(const std::vector<long>& revoked) const {
    X509_CRL* c = X509_CRL_new();
    X509_CRL_set_version(c, 1);
    X509_CRL_set_issuer_name(c, X509_get_subject_name(cert_));
    ASN1_TIME* last = X509_gmtime_adj(nullptr, -3600);
    ASN1_TIME* next = X509_gmtime_adj(nullptr, 86400);
    X509_CRL_set1_lastUpdate(c, last);
    X509_CRL_set1_nextUpdate(c, next);
    for (long serial : revoked) {
      X509_REVOKED* r = X509_REVOKED_new();
      ASN1_INTEGER* n = ASN1_INTEGER_new();
      ASN1_INTEGER_set(n, serial);
      X509_REVOKED_set_serialNumber(r, n);
      X509_REVOKED_set_revocationDate(r, last);
      X509_CRL_add0_revoked(c, r);
      ASN1_INTEGER_free(n);
    }
    X509_CRL_sort(c);
    X509_CRL_sign(c, key_, EVP_sha256());
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(b, c);
    char* data = nullptr;
    long len = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(b);
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    X509_CRL_free(c);
    return out;
  }

  // A leaf for `names` (the first is also its common name). Validity in seconds from now.
  Pem issue(const std::vector<std::string>& names, Key kind = Key::Ecdsa, long notBefore = -3600,
            long notAfter = 86400L * 30, bool withSan = true) {
    EVP_PKEY* key = makeKey(kind);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial_);
    X509_gmtime_adj(X509_getm_notBefore(cert), notBefore);
    X509_gmtime_adj(X509_getm_notAfter(cert), notAfter);
    X509_set_pubkey(cert, key);
    X509_NAME* n = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(names.at(0).c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert_));
    if (withSan) {
      std::string san;
      for (const auto& name : names) {
        san += (san.empty() ? "DNS:" : ",DNS:") + name;
      }
      addExt(cert, cert_, NID_subject_alt_name, san);
    }
    addExt(cert, cert_, NID_ext_key_usage, "serverAuth,clientAuth");
    X509_sign(cert, key_, EVP_sha256());
    Pem out{toPem(cert), toPem(key)};
    X509_free(cert);
    EVP_PKEY_free(key);
    return out;
  }

 private:
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  long serial_ = 1;
};

inline void writeFile(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
}

inline X509* readCert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return x;
}

inline EVP_PKEY* readKey(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return k;
}

// An OCSP response (DER) signed by `ca` for `leafPem`: `status` (V_OCSP_CERTSTATUS_*), valid from
// now+thisOffset to now+nextOffset (seconds); `responseStatus` other than successful: no body.
inline std::string ocspResponse(TestCa& ca, const std::string& leafPem, int status, long thisOffset, long nextOffset,
                     int responseStatus = OCSP_RESPONSE_STATUS_SUCCESSFUL) {
  X509* leaf = readCert(leafPem);
  X509* issuer = readCert(ca.pem());
  EVP_PKEY* key = readKey(ca.keyPem());
  OCSP_BASICRESP* bs = OCSP_BASICRESP_new();
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
  ASN1_TIME* thisUpdate = X509_gmtime_adj(nullptr, thisOffset);
  ASN1_TIME* nextUpdate = X509_gmtime_adj(nullptr, nextOffset);
  ASN1_TIME* revoked = X509_gmtime_adj(nullptr, -7200);
  OCSP_basic_add1_status(bs, id, status, OCSP_REVOKED_STATUS_KEYCOMPROMISE,
                         status == V_OCSP_CERTSTATUS_REVOKED ? revoked : nullptr, thisUpdate, nextUpdate);
  OCSP_basic_sign(bs, issuer, key, EVP_sha256(), nullptr, 0);
  OCSP_RESPONSE* resp =
      OCSP_response_create(responseStatus, responseStatus == OCSP_RESPONSE_STATUS_SUCCESSFUL ? bs : nullptr);
  unsigned char* der = nullptr;
  int n = i2d_OCSP_RESPONSE(resp, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  OCSP_RESPONSE_free(resp);
  OCSP_CERTID_free(id);
  OCSP_BASICRESP_free(bs);
  ASN1_TIME_free(thisUpdate);
  ASN1_TIME_free(nextUpdate);
  ASN1_TIME_free(revoked);
  EVP_PKEY_free(key);
  X509_free(issuer);
  X509_free(leaf);
  return out;
}

}  // namespace testcerts

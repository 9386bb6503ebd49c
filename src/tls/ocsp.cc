#include "tls/ocsp.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>

#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "tls/certificate_data.h"

namespace fulcrum::tls {

namespace {

struct OcspResponseFree {
  void operator()(OCSP_RESPONSE* p) const { OCSP_RESPONSE_free(p); }
};
struct OcspBasicFree {
  void operator()(OCSP_BASICRESP* p) const { OCSP_BASICRESP_free(p); }
};

int64_t toUnix(const ASN1_GENERALIZEDTIME* t) {
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

bool sameBytes(const ASN1_OCTET_STRING* s, const unsigned char* bytes, unsigned int n) {
  return s && static_cast<unsigned int>(ASN1_STRING_length(s)) == n &&
         std::memcmp(ASN1_STRING_get0_data(s), bytes, n) == 0;
}

// Whether `id` names `leaf` (issued by `issuer`, when known).
bool isFor(const OCSP_CERTID* id, X509* leaf, X509* issuer) {
  ASN1_OCTET_STRING* nameHash = nullptr;
  ASN1_OBJECT* mdObject = nullptr;
  ASN1_OCTET_STRING* keyHash = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(&nameHash, &mdObject, &keyHash, &serial, const_cast<OCSP_CERTID*>(id)) != 1) {
    return false;
  }
  if (!serial || ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(leaf)) != 0) {
    return false;
  }
  const EVP_MD* md = EVP_get_digestbyobj(mdObject);
  if (!md) {
    return false;
  }
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_NAME_digest(X509_get_issuer_name(leaf), md, buf, &n) != 1 || !sameBytes(nameHash, buf, n)) {
    return false;
  }
  if (issuer && (X509_pubkey_digest(issuer, md, buf, &n) != 1 || !sameBytes(keyHash, buf, n))) {
    return false;
  }
  return true;
}

int onStatusRequest(SSL* ssl, void* arg) {
  const auto* staples = static_cast<const OcspStaples*>(arg);
  X509* cert = SSL_get_certificate(ssl);  // the one this handshake chose
  for (const auto& e : staples->entries) {
    if (e.leaf != cert || !e.staple->live()) {
      continue;
    }
    const std::string& der = e.staple->der();
    auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(der.size()));  // OpenSSL frees it
    if (!copy) {
      return SSL_TLSEXT_ERR_NOACK;
    }
    std::memcpy(copy, der.data(), der.size());
    if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der.size())) != 1) {
      OPENSSL_free(copy);
      return SSL_TLSEXT_ERR_NOACK;
    }
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

std::shared_ptr<OcspStaple> OcspStaple::load(const std::string& file, const CertificateData& cert, int64_t nowSeconds,
                                             std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = file + ": cannot read the OCSP response file: " + std::strerror(errno);
    return nullptr;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string der = ss.str();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<OCSP_RESPONSE, OcspResponseFree> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!resp || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    error = file + ": not a DER OCSP response (expected what `openssl ocsp -respout FILE` writes)";
    return nullptr;
  }
  int status = OCSP_response_status(resp.get());
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    error = file + ": the responder answered \"" + OCSP_response_status_str(status) + "\", not a certificate status";
    return nullptr;
  }
  std::unique_ptr<OCSP_BASICRESP, OcspBasicFree> basic(OCSP_response_get1_basic(resp.get()));
  if (!basic) {
    ERR_clear_error();
    error = file + ": not a basic OCSP response";
    return nullptr;
  }
  // The issuer, when the chain file holds it, makes the match exact (its key hash too).
  X509* issuer = nullptr;
  for (const auto& c : cert.chain) {
    if (X509_check_issued(c.get(), cert.leaf.get()) == X509_V_OK) {
      issuer = c.get();
      break;
    }
  }
  OCSP_SINGLERESP* single = nullptr;
  for (int i = 0; i < OCSP_resp_count(basic.get()); ++i) {
    OCSP_SINGLERESP* s = OCSP_resp_get0(basic.get(), i);
    if (isFor(OCSP_SINGLERESP_get0_id(s), cert.leaf.get(), issuer)) {
      single = s;
      break;
    }
  }
  ERR_clear_error();
  if (!single) {
    error = file + ": the response is for another certificate (none of its " +
            std::to_string(OCSP_resp_count(basic.get())) + " answer(s) names this certificate's serial and issuer)";
    return nullptr;
  }
  int reason = 0;
  ASN1_GENERALIZEDTIME* revoked = nullptr;
  ASN1_GENERALIZEDTIME* thisUpdate = nullptr;
  ASN1_GENERALIZEDTIME* nextUpdate = nullptr;
  int certStatus = OCSP_single_get0_status(single, &reason, &revoked, &thisUpdate, &nextUpdate);
  if (certStatus != V_OCSP_CERTSTATUS_GOOD) {
    error = file + ": the certificate's status is " + OCSP_cert_status_str(certStatus) + ", not good";
    return nullptr;
  }
  int64_t from = toUnix(thisUpdate);
  int64_t until = nextUpdate ? toUnix(nextUpdate) : 0;
  constexpr int64_t kSkew = 300;  // clocks of responder and proxy differ a little
  if (from > nowSeconds + kSkew) {
    error = file + ": the response is not valid before " + isoDate(from);
    return nullptr;
  }
  if (until != 0 && until <= nowSeconds) {
    error = file + ": the response expired on " + isoDate(until) + " (its nextUpdate); fetch a new one";
    return nullptr;
  }
  std::shared_ptr<OcspStaple> out(new OcspStaple());
  out->file_ = file;
  out->der_ = std::move(der);
  out->next_update_ = until;
  return out;
}

bool OcspStaple::expireIfDue(int64_t nowSeconds) const {
  if (next_update_ == 0 || nowSeconds < next_update_) {
    return false;
  }
  return live_.exchange(false, std::memory_order_relaxed);
}

void enableStapling(ssl_ctx_st* ctx, const OcspStaples* staples) {
  SSL_CTX_set_tlsext_status_cb(ctx, &onStatusRequest);
  SSL_CTX_set_tlsext_status_arg(ctx, const_cast<OcspStaples*>(staples));
}

}  // namespace fulcrum::tls

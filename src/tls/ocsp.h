#pragma once
// OCSP stapling from a response file (listeners[].tls.certificates[].ocsp): the DER response an
// operator's job fetches (`openssl ocsp ... -respout FILE`), checked when it is loaded and sent
// to clients that ask for it (the status_request extension), so they need not ask the CA.
//
// Checked at load: a successful response, with a single response for this certificate (its
// serial and issuer name hash, and the issuer key hash when the chain holds the issuer), the
// status good, and within thisUpdate..nextUpdate. The response's signature is the client's
// to verify (it trusts the CA; Fulcrum may not have the responder's chain).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct ssl_ctx_st;  // SSL_CTX
struct x509_st;     // X509

namespace fulcrum::tls {

struct CertificateData;

class OcspStaple {
 public:
  // Reads and checks `file` against `cert`; null with `error` ("FILE: reason") when it is not a
  // good, current response for that certificate. `nowSeconds`: the wall clock.
  static std::shared_ptr<OcspStaple> load(const std::string& file, const CertificateData& cert, int64_t nowSeconds,
                                          std::string& error);

  const std::string& file() const { return file_; }
  int64_t nextUpdate() const { return next_update_; }  // Unix seconds; 0: the response names none
  // Whether handshakes staple it (false once expired). Any thread.
  bool live() const { return live_.load(std::memory_order_relaxed); }
  // Control thread, every second or so: stops stapling once nextUpdate has passed (a stale
  // response would make strict clients fail). True only the time it stops (to log once).
  bool expireIfDue(int64_t nowSeconds) const;
  const std::string& der() const { return der_; }

 private:
  OcspStaple() = default;
  std::string file_;
  std::string der_;
  int64_t next_update_ = 0;
  mutable std::atomic<bool> live_{true};
};

// What one SSL_CTX staples: the response for each of its certificates that has one.
struct OcspStaples {
  struct Entry {
    x509_st* leaf;  // owned by the Certificate, which the ServerContext holds
    std::shared_ptr<const OcspStaple> staple;
  };
  std::vector<Entry> entries;
};

// Makes `ctx` staple the response of the certificate a handshake chose when the client asks.
// `staples` must outlive `ctx` and not move.
void enableStapling(ssl_ctx_st* ctx, const OcspStaples* staples);

}  // namespace fulcrum::tls

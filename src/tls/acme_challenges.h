#pragma once
// AcmeChallenges: the ACME challenges pending right now (RFC 8555 HTTP-01, RFC 8737
// TLS-ALPN-01), set by the ACME thread and read by the workers: every http listener answers
// GET /.well-known/acme-challenge/TOKEN with the key authorization, and a TLS listener offered
// ALPN "acme-tls/1" for a pending name serves that name's self-signed challenge certificate.
//
// The workers read an immutable table through an atomic shared_ptr (no lock on their path);
// a change publishes a new table. One object lives as long as the Server.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace fulcrum::tls {

struct AlpnChallengeCert;  // OpenSSL objects (acme_challenges.cc)

class AcmeChallenges {
 public:
  AcmeChallenges();
  ~AcmeChallenges();

  // HTTP-01: `token` answers `keyAuthorization` until removed. Any thread.
  void setHttp(const std::string& token, const std::string& keyAuthorization);
  void removeHttp(const std::string& token);
  // TLS-ALPN-01: a certificate for `name` (lower case) carrying the critical
  // id-pe-acmeIdentifier extension with SHA-256(keyAuthorization). False with `error` when
  // OpenSSL cannot make it.
  bool setAlpn(const std::string& name, const std::string& keyAuthorization, std::string& error);
  void removeAlpn(const std::string& name);

  // Workers: the key authorization for `token`, if pending.
  std::optional<std::string> httpAnswer(std::string_view token) const;
  // Workers, in the ClientHello: the challenge certificate for `name`, if pending (null else).
  std::shared_ptr<const AlpnChallengeCert> alpnCertificate(const std::string& name) const;
  bool empty() const;

 private:
  struct Table {
    std::map<std::string, std::string, std::less<>> http;  // token -> key authorization
    std::map<std::string, std::shared_ptr<const AlpnChallengeCert>> alpn;  // name -> certificate
  };
  std::shared_ptr<const Table> load() const { return table_.load(std::memory_order_acquire); }
  template <typename F>
  void update(F&& change);

  std::mutex writers_;  // writers only (the ACME thread); readers never lock
  std::atomic<std::shared_ptr<const Table>> table_;
};

// The ALPN protocol of TLS-ALPN-01.
inline constexpr std::string_view kAcmeTlsAlpn = "acme-tls/1";

}  // namespace fulcrum::tls

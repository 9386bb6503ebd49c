#pragma once
// Certificate: one certificate chain and its private key, read from PEM files, checked
// (the key matches, the certificate is within its validity), and the DNS names it serves
// taken from its subjectAltName (the common name only when it has none), so a config never
// repeats them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fulcrum::tls {

enum class KeyType : uint8_t { Rsa, Ecdsa, Other };

struct CertificateData;  // OpenSSL objects (certificate.cc)

class Certificate {
 public:
  // Reads and checks the pair; on failure returns null and says why in `error` (naming the
  // file and OpenSSL's reason). `nowSeconds`: the wall clock, for expiry.
  static std::shared_ptr<const Certificate> load(const std::string& certFile, const std::string& keyFile,
                                                 int64_t nowSeconds, std::string& error);
  ~Certificate();

  // Lower-case DNS names, exact ("a.example") or wildcard ("*.example").
  const std::vector<std::string>& names() const { return names_; }
  KeyType keyType() const { return key_type_; }
  int64_t notAfter() const { return not_after_; }  // Unix seconds
  const std::string& certFile() const { return cert_file_; }
  const CertificateData& data() const { return *data_; }

 private:
  Certificate() = default;
  std::unique_ptr<CertificateData> data_;
  std::vector<std::string> names_;
  KeyType key_type_ = KeyType::Other;
  int64_t not_after_ = 0;
  std::string cert_file_;
};

// Whether `name` (lower case) is served by `pattern`: common/host_name.h's hostNameMatches (one
// rule for certificates and SNI passthrough routes).
bool nameMatches(const std::string& pattern, const std::string& name);

}  // namespace fulcrum::tls

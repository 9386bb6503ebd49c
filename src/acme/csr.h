#pragma once
// The certificate's own key (ECDSA P-256, new for every order, so a renewal never reuses a key)
// and the PKCS#10 request the order is finalized with: every name in subjectAltName, the first
// as the subject's common name.
#include <string>
#include <vector>

namespace fulcrum::acme {

struct CertificateRequest {
  std::string key_pem;  // PKCS#8 PEM of the new key
  std::string csr_der;  // DER (finalize sends base64url of it)
};

// False with `error` when OpenSSL fails; `names` is not empty.
bool makeCertificateRequest(const std::vector<std::string>& names, CertificateRequest& out, std::string& error);

}  // namespace fulcrum::acme

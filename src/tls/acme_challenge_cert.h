#pragma once
// The OpenSSL objects of a TLS-ALPN-01 challenge certificate (acme_challenges.h keeps OpenSSL
// out of its users); server_context.cc serves them.
#include <memory>
#include <string>

#include "tls/openssl_util.h"

namespace fulcrum::tls {

struct AlpnChallengeCert {
  X509Ptr cert;
  PkeyPtr key;
};

// A self-signed certificate for `name` with the critical id-pe-acmeIdentifier extension
// holding SHA-256(keyAuthorization) (RFC 8737); null with `error` when OpenSSL fails.
std::shared_ptr<const AlpnChallengeCert> makeAlpnChallengeCert(const std::string& name,
                                                               const std::string& keyAuthorization,
                                                               std::string& error);

}  // namespace fulcrum::tls

#pragma once
// The OpenSSL objects behind a Certificate (certificate.h keeps OpenSSL out of its users).
#include <vector>

#include "tls/openssl_util.h"

namespace fulcrum::tls {

struct CertificateData {
  X509Ptr leaf;
  std::vector<X509Ptr> chain;  // intermediates, in file order
  PkeyPtr key;
};

}  // namespace fulcrum::tls

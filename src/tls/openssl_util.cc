#include "tls/openssl_util.h"

#include <openssl/err.h>

namespace fulcrum::tls {

std::string drainErrors(const char* fallback) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) {
      out += "; ";
    }
    if (reason) {
      out += reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      out += buf;
    }
  }
  return out.empty() ? fallback : out;
}

}  // namespace fulcrum::tls

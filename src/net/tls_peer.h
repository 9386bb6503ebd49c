#pragma once
// What a TLS connection proved about its client: the verified certificate (mTLS). Filled by
// tls/ after the handshake, read by the HTTP filters (identity headers) and the router (routes
// on "client certificate present / subject"), which know nothing of OpenSSL.
#include <string>

namespace fulcrum::net {

struct ClientCertificate {
  std::string subject;      // RFC 2253, "CN=alice,O=Example" (special characters escaped)
  std::string sans;         // "DNS:a.example, IP:10.0.0.1, email:a@example, URI:spiffe://x"
  std::string fingerprint;  // SHA-256 of the DER certificate, 64 lower-case hex digits
};

}  // namespace fulcrum::net

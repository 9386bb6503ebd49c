#pragma once
// A blocking HTTP/1.1 client for the admin API (fulcrum ctl): one request per connection.
#include <string>
#include <vector>

#include "common/result.h"
#include "config/model.h"

namespace fulcrum::admin {

struct ClientResponse {
  int status = 0;
  std::string body;
};

// HTTPS to the admin API (admin.tls): how the server's certificate is checked.
struct ClientTls {
  bool enabled = false;
  std::string ca_file;              // --cacert: CAs the admin's certificate must lead to (and `name`) ...
  std::vector<std::string> pinned;  // ... or the admin's own certificate files (from its config)
  std::string name;                 // the name (or IP literal) the certificate must be for, with ca_file
};

// Errors say what failed: "cannot connect to 127.0.0.1:9900: Connection refused", a timeout,
// a TLS handshake that failed (and why), or a reply that is not HTTP.
Result<ClientResponse> call(const config::SocketAddress& addr, const std::string& method, const std::string& path,
                            const std::string& body, const std::string& token, int timeoutMs = 10000,
                            const ClientTls& tls = {});

}  // namespace fulcrum::admin

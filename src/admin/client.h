#pragma once
// A blocking HTTP/1.1 client for the admin API (fulcrum ctl): one request per connection.
#include <string>

#include "common/result.h"
#include "config/model.h"

namespace fulcrum::admin {

struct ClientResponse {
  int status = 0;
  std::string body;
};

// Errors say what failed: "cannot connect to 127.0.0.1:9900: Connection refused", a timeout,
// or a reply that is not HTTP.
Result<ClientResponse> call(const config::SocketAddress& addr, const std::string& method, const std::string& path,
                            const std::string& body, const std::string& token, int timeoutMs = 10000);

}  // namespace fulcrum::admin

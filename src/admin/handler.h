#pragma once
// The admin API as the terminal handler of the admin listener (http/filters/terminal_filter.h):
// a complete HTTP request in, Api::handle, its answer out. Every answer, the refusals the HTTP
// stack makes (a bad head, a timeout, a body too large) included, is {"error": ...} JSON with
// Cache-Control: no-store, and closes the connection (one request per connection).
#include "admin/api.h"
#include "http/filters/terminal_filter.h"

namespace fulcrum::admin {

// The admin Request a terminal request maps to (Authorization and Content-Type: their first field).
Request toAdminRequest(const http::TerminalRequest& request);
// The HTTP answer of an admin Response.
http::TerminalResponse toTerminalResponse(const Response& response);

class AdminHandler final : public http::TerminalHandler {
 public:
  explicit AdminHandler(Api& api) : api_(api) {}
  http::TerminalResponse handle(const http::TerminalRequest& request) override;
  http::TerminalResponse refuse(uint16_t status, std::string_view reason) const override;

 private:
  Api& api_;
};

}  // namespace fulcrum::admin

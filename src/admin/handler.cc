#include "admin/handler.h"

namespace fulcrum::admin {

Request toAdminRequest(const http::TerminalRequest& request) {
  Request r;
  r.method = request.method;
  r.path = request.path;
  r.query = request.query;
  if (const std::string* v = request.header("authorization")) {
    r.authorization = *v;
  }
  if (const std::string* v = request.header("content-type")) {
    r.content_type = *v;
  }
  r.body = request.body;
  r.peer = request.peer;
  return r;
}

http::TerminalResponse toTerminalResponse(const Response& response) {
  http::TerminalResponse r;
  r.status = static_cast<uint16_t>(response.status);
  r.content_type = response.content_type;
  r.headers = "Cache-Control: no-store\r\n" + response.extra_headers;
  r.body = response.body;
  r.close = true;
  return r;
}

http::TerminalResponse AdminHandler::handle(const http::TerminalRequest& request) {
  return toTerminalResponse(api_.handle(toAdminRequest(request)));
}

http::TerminalResponse AdminHandler::refuse(uint16_t status, std::string_view reason) const {
  return toTerminalResponse(errorResponse(status, reason));
}

}  // namespace fulcrum::admin

#pragma once
// The admin API: routes admin requests to the metrics, stats, health endpoints and the
// REST API (docs/admin.md). Every error is a 4xx/5xx with {"error": "..."}. It is served by
// the HTTP stack (admin/handler.h, admin/listener.h); nothing here does I/O.
#include <string>
#include <string_view>

#include "admin/control.h"

namespace fulcrum::admin {

struct Request {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', undecoded
  std::string authorization;
  std::string content_type;
  std::string body;
  std::string peer;   // client address text
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string extra_headers;  // "Name: value\r\n" lines
};

// {"error": message} with the status.
Response errorResponse(int status, std::string_view message);

class Api {
 public:
  // token: required as "Authorization: Bearer <token>" when not empty (not for /livez, /readyz).
  Api(Control& control, std::string token) : control_(control), token_(std::move(token)) {}
  Response handle(const Request& req);

 private:
  Response route(const Request& req, const std::string& actor);
  Response readyz();
  Control& control_;
  std::string token_;
};

}  // namespace fulcrum::admin

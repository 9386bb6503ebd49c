#pragma once
// The admin API: routes admin requests to the metrics, stats, health endpoints and the
// REST API (docs/admin.md). Every error is a 4xx/5xx with {"error": "..."}.
#include <string>

#include "admin/control.h"
#include "admin/http_server.h"

namespace fulcrum::admin {

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

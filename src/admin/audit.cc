#include "admin/audit.h"

#include <time.h>

#include <nlohmann/json.hpp>

namespace fulcrum::admin {

std::string auditLine(std::string_view actor, std::string_view action, std::string_view detail, bool ok,
                      uint64_t configVersion) {
  char when[40];
  time_t now = time(nullptr);
  tm t;
  gmtime_r(&now, &t);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &t);
  nlohmann::ordered_json j = {{"time", when},   {"actor", actor}, {"action", action},
                              {"detail", detail}, {"ok", ok},       {"config_version", configVersion}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace fulcrum::admin

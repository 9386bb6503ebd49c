#include "l4/sni_route.h"

#include "common/host_name.h"

namespace fulcrum::l4 {

int pickSniRoute(const std::vector<config::SniRoute>& routes, std::string_view name) {
  if (name.empty()) {
    return -1;
  }
  int wildcard = -1;
  for (size_t i = 0; i < routes.size(); ++i) {
    for (const std::string& pattern : routes[i].names) {
      if (pattern == name) {
        return static_cast<int>(i);
      }
      if (wildcard < 0 && pattern.starts_with("*.") && hostNameMatches(pattern, name)) {
        wildcard = static_cast<int>(i);
      }
    }
  }
  return wildcard;
}

}  // namespace fulcrum::l4

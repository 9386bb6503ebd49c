#pragma once
// Which of a tcp listener's sni_routes takes a ClientHello's server name (SNI passthrough).
#include <string_view>
#include <vector>

#include "config/model.h"

namespace fulcrum::l4 {

// The index of the route for `name` (lower case, as codec::parseClientHello gives it), or -1
// when none takes it (no SNI, or an unknown name: the listener's default pool, if any). An exact
// name wins over a wildcard whatever the routes' order. At most one wildcard can match a name
// (each covers exactly one label, and the config refuses a name twice), so order never matters.
int pickSniRoute(const std::vector<config::SniRoute>& routes, std::string_view name);

}  // namespace fulcrum::l4

#pragma once
// Address ranges in config text (Cidr in config/model.h; Cidr::contains matches a peer).
#include <string>
#include <string_view>

#include "config/model.h"

namespace fulcrum::config {

// "10.0.0.0/8", "2001:db8::/32"; a plain address means a single host (/32 or /128). Host bits
// beyond the prefix are refused. On failure `error` says what was expected and `out` is untouched.
bool parseCidr(std::string_view text, Cidr& out, std::string& error);

}  // namespace fulcrum::config

#pragma once
// The one rule for names with a wildcard, shared by TLS certificate selection (tls/) and SNI
// passthrough routes (l4/): they must agree on what "*.example.com" covers.
#include <string_view>

namespace fulcrum {

// Whether `name` (lower case) is covered by `pattern` (lower case): equal, or "*.rest" and name
// is exactly one non-empty label followed by ".rest" (RFC 6125 §6.4.3: the wildcard covers one
// label, so "*.example.com" covers "a.example.com" but neither "example.com" nor "a.b.example.com").
constexpr bool hostNameMatches(std::string_view pattern, std::string_view name) {
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    std::string_view rest = pattern.substr(1);  // ".example.com"
    if (name.size() <= rest.size() || !name.ends_with(rest)) {
      return false;
    }
    return name.substr(0, name.size() - rest.size()).find('.') == std::string_view::npos;
  }
  return pattern == name;
}

}  // namespace fulcrum
